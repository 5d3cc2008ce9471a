import Testing
@testable import Inspection

@Test func moduleLoads() { #expect(Bool(true)) }
