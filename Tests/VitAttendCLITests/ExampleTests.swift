import Testing

/// The examples are real targets; run them as a reader would.
struct ExampleTests {
  @Test func attentionWalkthroughPrintsEveryStep() throws {
    let result = try CommandRunner.run([CommandRunner.repositoryFile("images/cat.png")], executable: "attention-walkthrough")
    #expect(result.status == 0, "\(result.error)")
    let lines = result.output.split(separator: "\n")
    #expect(lines.count == 6)
    #expect(result.output.contains("84 patches of 768 numbers (a 12x7 grid)"))
    #expect(result.output.contains("rows sum to 1.0000...1.0000"))
    #expect(result.output.contains("attention weights [4, 84, 84]"))
    #expect(result.output.contains("(at most 9 per query per head: 3024)"))
    let bad = try CommandRunner.run(["/nonexistent.png"], executable: "attention-walkthrough")
    #expect(bad.status == 1 && bad.error.contains("no such file"))
  }
}
