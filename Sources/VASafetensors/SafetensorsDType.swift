/// Element types of a safetensors tensor.
public enum SafetensorsDType: String, Sendable, CaseIterable {
  /// IEEE 754 floats of 64, 32 and 16 bits, and bfloat16 (the header's `F64` … `BF16`).
  case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
  /// Signed integers of 64, 32, 16 and 8 bits.
  case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
  /// Unsigned integers of 64, 32, 16 and 8 bits, and booleans stored as one byte.
  case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"

  /// Bytes per element: 8, 4, 2 or 1.
  public var byteSize: Int {
    switch self {
    case .f64, .i64, .u64: 8
    case .f32, .i32, .u32: 4
    case .f16, .bf16, .i16, .u16: 2
    case .i8, .u8, .bool: 1
    }
  }
}
