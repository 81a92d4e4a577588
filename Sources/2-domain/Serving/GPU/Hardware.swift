/// One GPU model, as the timing models need it.
///
/// The built-ins carry NVIDIA's public datasheet values (H100 Tensor Core GPU datasheet, H200 datasheet, A100
/// Tensor Core GPU datasheet, L4 datasheet): dense BF16 tensor throughput (the datasheets print the 2:4-sparse
/// figure, twice as large, with an asterisk), HBM/GDDR bandwidth, and NVLink (or PCIe) bandwidth.
public struct GPUSpec: Sendable, Equatable {
    /// The canonical name, such as `H100-80GB`.
    public var name: String
    /// Device memory in bytes. The datasheets' "80GB" is read as 80 GiB, close to what the driver reports
    /// (81,559 MiB on an H100 SXM5 80GB, 81,920 MiB on an A100 80GB).
    public var memoryBytes: Int
    /// Peak dense BF16 tensor-core throughput, FLOP/s.
    public var denseBF16FLOPsPerSecond: Double
    /// Peak device-memory bandwidth, bytes/s.
    public var memoryBandwidthBytesPerSecond: Double
    /// Peak GPU-to-GPU bandwidth per GPU, bytes/s, both directions together, as the datasheets state it
    /// (NVLink for SXM parts, PCIe for cards without NVLink). One direction carries half.
    public var interconnectBytesPerSecond: Double

    public init(
        name: String, memoryBytes: Int, denseBF16FLOPsPerSecond: Double, memoryBandwidthBytesPerSecond: Double,
        interconnectBytesPerSecond: Double
    ) {
        self.name = name
        self.memoryBytes = memoryBytes
        self.denseBF16FLOPsPerSecond = denseBF16FLOPsPerSecond
        self.memoryBandwidthBytesPerSecond = memoryBandwidthBytesPerSecond
        self.interconnectBytesPerSecond = interconnectBytesPerSecond
    }

    private static let gibibyte = 1 << 30

    /// NVIDIA H100 SXM5 80GB: 989 TFLOP/s dense BF16, 3.35 TB/s HBM3, 900 GB/s NVLink 4.
    public static let h100_80GB = GPUSpec(
        name: "H100-80GB", memoryBytes: 80 * gibibyte, denseBF16FLOPsPerSecond: 989.4e12,
        memoryBandwidthBytesPerSecond: 3.35e12, interconnectBytesPerSecond: 900e9)

    /// NVIDIA H200 SXM 141GB: the H100's compute with 4.8 TB/s HBM3e, 900 GB/s NVLink 4.
    public static let h200_141GB = GPUSpec(
        name: "H200-141GB", memoryBytes: 141 * gibibyte, denseBF16FLOPsPerSecond: 989.4e12,
        memoryBandwidthBytesPerSecond: 4.8e12, interconnectBytesPerSecond: 900e9)

    /// NVIDIA A100 SXM4 80GB: 312 TFLOP/s dense BF16, 2,039 GB/s HBM2e, 600 GB/s NVLink 3.
    public static let a100_80GB = GPUSpec(
        name: "A100-80GB", memoryBytes: 80 * gibibyte, denseBF16FLOPsPerSecond: 312e12,
        memoryBandwidthBytesPerSecond: 2.039e12, interconnectBytesPerSecond: 600e9)

    /// NVIDIA L4 24GB: 121 TFLOP/s dense BF16, 300 GB/s GDDR6, no NVLink (PCIe Gen4 x16, 64 GB/s).
    public static let l4 = GPUSpec(
        name: "L4", memoryBytes: 24 * gibibyte, denseBF16FLOPsPerSecond: 121e12,
        memoryBandwidthBytesPerSecond: 300e9, interconnectBytesPerSecond: 64e9)

    /// The built-in GPUs, in a fixed order.
    public static let builtIns: [GPUSpec] = [h100_80GB, h200_141GB, a100_80GB, l4]

    /// Other names accepted by ``named(_:)``, each with the canonical name it stands for.
    public static let aliases: [(alias: String, name: String)] = [
        ("H100", "H100-80GB"), ("H100-SXM", "H100-80GB"), ("H100-SXM5-80GB", "H100-80GB"),
        ("H200", "H200-141GB"), ("A100", "A100-80GB"), ("A100-SXM4-80GB", "A100-80GB"),
        ("L4-24GB", "L4"),
    ]

    /// The built-in GPU with this name or alias, ignoring case; nil if there is none.
    public static func named(_ name: String) -> GPUSpec? {
        let key = name.lowercased()
        let canonical = aliases.first { $0.alias.lowercased() == key }?.name.lowercased() ?? key
        return builtIns.first { $0.name.lowercased() == canonical }
    }

    /// Every name ``named(_:)`` accepts, canonical names first, for error messages.
    public static var knownNames: [String] { builtIns.map(\.name) + aliases.map(\.alias) }
}
