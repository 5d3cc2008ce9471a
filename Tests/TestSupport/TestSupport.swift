import TensorCore
/// Shared helpers for tests (tolerances, gradient checks, fixtures).
public enum TestSupportPlaceholder {}
