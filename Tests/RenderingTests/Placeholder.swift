import Testing
@testable import Rendering

@Test func moduleLoads() { #expect(Bool(true)) }
