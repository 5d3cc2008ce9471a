import Testing
@testable import Safetensors

@Test func moduleLoads() { #expect(Bool(true)) }
