import CVAKernels

/// The data caches of the CPU this process runs on, which `sgemm`'s block sizes follow.
public struct CPUCaches: Sendable, Equatable, CustomStringConvertible {
  /// Where the sizes came from.
  public enum Source: Sendable, Equatable {
    /// Linux's `/sys/devices/system/cpu/cpu0/cache/index*`.
    case sysfs
    /// CPUID's cache parameters (leaf 4 on Intel, 0x8000001D on AMD).
    case cpuid
    /// Neither answered: 32 KiB, 1 MiB and 8 MiB were assumed.
    case assumed
  }

  /// Bytes of level-1 data cache per core.
  public let l1Data: Int
  /// Bytes of level-2 cache per core.
  public let l2: Int
  /// Bytes of one level-3 instance (shared by its cores); 0 when there is none.
  public let l3: Int
  /// Where the sizes came from.
  public let source: Source

  /// The caches detected at run time (read once per call: cheap, a few small files).
  public static var detected: CPUCaches {
    let c = cva_detect_caches()
    let source: Source = c.source == Int32(CVA_CACHES_SYSFS) ? .sysfs : c.source == Int32(CVA_CACHES_CPUID) ? .cpuid : .assumed
    return CPUCaches(l1Data: Int(c.l1d), l2: Int(c.l2), l3: Int(c.l3), source: source)
  }

  /// "L1d 32 KiB, L2 1024 KiB, L3 32768 KiB (sysfs)".
  public var description: String { "L1d \(l1Data >> 10) KiB, L2 \(l2 >> 10) KiB, L3 \(l3 >> 10) KiB (\(source))" }
}

/// One SGEMM micro-kernel compiled into the library, and the block sizes `sgemm` uses with it on
/// this CPU (derived from `CPUCaches.detected`).
///
/// `sgemm` runs `SGEMMKernel.chosen`: the kernel shaped for this CPU's vendor at the widest
/// instruction set it has (`avx512-12x32` on AMD Zen 4, `avx512-14x32` on Intel cores with two
/// 512-bit FMA ports, `avx2-6x16` without AVX-512, else `portable`). `CVA_SGEMM_KERNEL=<name>` in
/// the environment forces a kernel this CPU can run (`avx2` and `portable` cap the level).
public struct SGEMMKernel: Sendable, Hashable, CustomStringConvertible {
  /// The kernel's index in CVAKernels' table.
  public let index: Int32
  /// Its name: `portable`, `avx2-6x16`, `avx512-12x32`, `avx512-14x32`.
  public let name: String
  /// Whether this CPU can run it.
  public let isSupported: Bool
  /// The tile of C one call computes: rows of A by columns of B.
  public let tile: (rows: Int, columns: Int)
  /// Rows of A (`mc`), depths (`kc`) and columns of B (`nc`) per packed block on this CPU.
  public let block: (rows: Int, depth: Int, columns: Int)

  init(index: Int32) {
    let blocking = cva_sgemm_blocking_of(index)
    self.index = index
    self.name = String(cString: cva_sgemm_kernel_name(index))
    self.isSupported = cva_sgemm_kernel_supported(index) == 1
    self.tile = (Int(blocking.mr), Int(blocking.nr))
    self.block = (Int(blocking.mc), Int(blocking.kc), Int(blocking.nc))
  }

  /// Every kernel compiled in, whether or not this CPU can run it.
  public static var all: [SGEMMKernel] { (0..<cva_sgemm_kernel_count()).map(SGEMMKernel.init(index:)) }

  /// The kernel `sgemm` uses in this process.
  public static var chosen: SGEMMKernel { SGEMMKernel(index: cva_sgemm_kernel_index()) }

  /// The kernel called `name`, or nil when none is compiled in (another architecture).
  public static func named(_ name: String) -> SGEMMKernel? { all.first { $0.name == name } }

  /// Why `CVA_SGEMM_KERNEL` was not applied, or nil when it was (or is unset).
  public static var requestProblem: String? {
    switch Int(cva_sgemm_kernel_request_status()) {
    case Int(CVA_KERNEL_REQUEST_UNKNOWN):
      "CVA_SGEMM_KERNEL names no kernel (known: \(all.map(\.name).joined(separator: ", ")), avx2, portable); using \(chosen.name)"
    case Int(CVA_KERNEL_REQUEST_UNSUPPORTED): "this CPU cannot run the kernel CVA_SGEMM_KERNEL names; using \(chosen.name)"
    default: nil
    }
  }

  /// "avx512-12x32 (mc 96, kc 256, nc 512)".
  public var description: String { "\(name) (mc \(block.rows), kc \(block.depth), nc \(block.columns))" }

  /// Two values are the same kernel when they have the same index.
  public static func == (lhs: SGEMMKernel, rhs: SGEMMKernel) -> Bool { lhs.index == rhs.index }
  /// Hashes the index, the kernel's identity.
  public func hash(into hasher: inout Hasher) { hasher.combine(index) }
}

/// `sgemm` on one thread with `kernel` instead of the chosen one (same semantics and shapes,
/// prologue and epilogue included); returns false without computing when this CPU cannot run
/// it. For tests and benchmarks.
@discardableResult
public func sgemm(
  kernel: SGEMMKernel, _ transA: MatrixTranspose, _ transB: MatrixTranspose,
  m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, bias: UnsafePointer<Float>? = nil, prologue: SGEMMPrologue = .none, epilogue: SGEMMEpilogue = .none,
  c: UnsafeMutablePointer<Float>, ldc: Int
) -> Bool {
  let ta: Int32 = transA == .transposed ? 1 : 0, tb: Int32 = transB == .transposed ? 1 : 0
  let normed = prologue.parts()
  precondition(normed.kind == Int32(CVA_PROLOGUE_NONE) || transA == .none, "sgemm's layer-norm prologue needs A not transposed")
  return withPrologue(normed, row: 0) { pro in
    withEpilogue(epilogue.parts(), offset: 0) {
      cva_sgemm_with_kernel(kernel.index, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, bias, pro, $0, c, ldc) == 1
    }
  }
}

/// One core's measured fp32 FMA peak in GFLOP/s (register-only chains of the widest FMA this CPU
/// has, best window of a few ms over about `seconds`); 0 on a CPU without AVX2+FMA or AVX-512.
public func fmaPeakGFLOPS(seconds: Double = 0.5) -> Double { cva_fma_peak_gflops(seconds) }
