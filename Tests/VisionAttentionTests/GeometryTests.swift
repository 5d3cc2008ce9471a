import Testing
@testable import VisionAttention

struct GeometryTests {
  @Test func fitResizesTheLongerSideAndCropsToPatches() throws {
    let g = try InputGeometry(originalWidth: 451, originalHeight: 300, patchSize: 16, longerSide: 480)
    #expect((g.resizedWidth, g.resizedHeight) == (480, 319))
    #expect((g.width, g.height, g.cropX, g.cropY) == (480, 304, 0, 7))
    #expect((g.gridWidth, g.gridHeight) == (30, 19))
    let p = g.patch(atOriginalX: 170, y: 113)
    #expect((p.column, p.row) == (11, 7))
    let back = g.originalPoint(x: 100, y: 50)
    let there = g.modelPoint(x: back.x, y: back.y)
    #expect(abs(there.x - 100) < 1e-9 && abs(there.y - 50) < 1e-9)
  }

  @Test func noneKeepsPixelsAndCropsToPatches() throws {
    let g = try InputGeometry(originalWidth: 451, originalHeight: 300, patchSize: 16, longerSide: nil)
    #expect(g.scale == 1 && (g.width, g.height, g.cropX, g.cropY) == (448, 288, 1, 6))
    #expect(throws: VisionAttentionError.imageTooSmall(width: 10, height: 40, patchSize: 16)) {
      try InputGeometry(originalWidth: 10, originalHeight: 40, patchSize: 16, longerSide: nil)
    }
  }

  @Test(arguments: [("3,4", QueryPoint(x: 3, y: 4)), (" 10 , 20 ", QueryPoint(x: 10, y: 20))])
  func queryParses(text: String, expected: QueryPoint) throws {
    #expect(try QueryPoint.parse(text) == expected)
  }

  @Test(arguments: ["", "3", "3,4,5", "a,b", "1.5,2", "nan,2", "0.5,inf", "1e3,2", "99999999999999999999,1"])
  func badQueriesAreRejected(text: String) {
    #expect(throws: QueryPoint.ParseError.self) { try QueryPoint.parse(text) }
  }
}
