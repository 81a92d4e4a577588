/// One GPU model, as the timing models need it.
///
/// The built-ins carry the vendors' public datasheet values: dense tensor throughput per precision (the datasheets
/// print the 2:4-sparse figure, twice as large, with an asterisk; we never use it), HBM/GDDR bandwidth, and the
/// GPU-to-GPU bandwidth. Sources, one per GPU, are on each constant and in docs/calibration.md.
public struct GPUSpec: Sendable, Equatable {
    /// The canonical name, such as `H100-80GB`.
    public var name: String
    /// Device memory in bytes. The datasheets' "80GB" is read as 80 GiB, close to what the driver reports
    /// (81,559 MiB on an H100 SXM5 80GB, 81,920 MiB on an A100 80GB).
    public var memoryBytes: Int
    /// Peak dense BF16 tensor-core throughput, FLOP/s.
    public var denseBF16FLOPsPerSecond: Double
    /// Peak dense FP8 tensor-core throughput, FLOP/s; nil for a GPU without FP8 tensor cores (A100).
    public var denseFP8FLOPsPerSecond: Double?
    /// Peak dense INT8 tensor-core throughput, operations/s; nil where the datasheet gives none.
    public var denseINT8OpsPerSecond: Double?
    /// Peak device-memory bandwidth, bytes/s.
    public var memoryBandwidthBytesPerSecond: Double
    /// Peak GPU-to-GPU bandwidth per GPU, bytes/s, both directions together, as the datasheets state it
    /// (NVLink for SXM parts, Infinity Fabric for the MI300X, PCIe for cards without either). One direction
    /// carries half.
    public var interconnectBytesPerSecond: Double
    /// How the GPUs of a node are wired. nil: through a switch (NVSwitch, or PCIe), so a GPU reaches any group of
    /// peers at its whole bandwidth. `n`: a fully connected mesh of `n` point-to-point links per GPU (the MI300X's
    /// seven Infinity Fabric links), each carrying 1/n of it, so a group of `t` GPUs uses `min(t − 1, n)` links.
    public var meshLinks: Int?

    public init(
        name: String, memoryBytes: Int, denseBF16FLOPsPerSecond: Double, denseFP8FLOPsPerSecond: Double? = nil,
        denseINT8OpsPerSecond: Double? = nil, memoryBandwidthBytesPerSecond: Double,
        interconnectBytesPerSecond: Double, meshLinks: Int? = nil
    ) {
        self.name = name
        self.memoryBytes = memoryBytes
        self.denseBF16FLOPsPerSecond = denseBF16FLOPsPerSecond
        self.denseFP8FLOPsPerSecond = denseFP8FLOPsPerSecond
        self.denseINT8OpsPerSecond = denseINT8OpsPerSecond
        self.memoryBandwidthBytesPerSecond = memoryBandwidthBytesPerSecond
        self.interconnectBytesPerSecond = interconnectBytesPerSecond
        self.meshLinks = meshLinks
    }

    /// The bandwidth (both directions) one GPU has towards the other GPUs of a group of `gpus`: the whole
    /// interconnect behind a switch, the links to its `gpus − 1` peers on a mesh.
    public func interconnectBytesPerSecond(amongGPUs gpus: Int) -> Double {
        guard let links = meshLinks else { return interconnectBytesPerSecond }
        return interconnectBytesPerSecond * Double(min(max(gpus - 1, 1), links)) / Double(links)
    }

    private static let gibibyte = 1 << 30

    /// NVIDIA H100 SXM5 80GB (H100 Tensor Core GPU datasheet): 989 TFLOP/s dense BF16, 1,979 dense FP8 and INT8
    /// (3,958 with sparsity), 3.35 TB/s HBM3, 900 GB/s NVLink 4.
    public static let h100_80GB = GPUSpec(
        name: "H100-80GB", memoryBytes: 80 * gibibyte, denseBF16FLOPsPerSecond: 989.4e12,
        denseFP8FLOPsPerSecond: 1_978.9e12, denseINT8OpsPerSecond: 1_978.9e12,
        memoryBandwidthBytesPerSecond: 3.35e12, interconnectBytesPerSecond: 900e9)

    /// NVIDIA H200 SXM 141GB (H200 Tensor Core GPU datasheet): the H100's compute (989 dense BF16, 1,979 dense FP8
    /// and INT8) with 4.8 TB/s HBM3e, 900 GB/s NVLink 4.
    public static let h200_141GB = GPUSpec(
        name: "H200-141GB", memoryBytes: 141 * gibibyte, denseBF16FLOPsPerSecond: 989.4e12,
        denseFP8FLOPsPerSecond: 1_978.9e12, denseINT8OpsPerSecond: 1_978.9e12,
        memoryBandwidthBytesPerSecond: 4.8e12, interconnectBytesPerSecond: 900e9)

    /// NVIDIA A100 SXM4 80GB (A100 Tensor Core GPU datasheet): 312 TFLOP/s dense BF16, 624 dense INT8, no FP8
    /// tensor cores, 2,039 GB/s HBM2e, 600 GB/s NVLink 3.
    public static let a100_80GB = GPUSpec(
        name: "A100-80GB", memoryBytes: 80 * gibibyte, denseBF16FLOPsPerSecond: 312e12, denseINT8OpsPerSecond: 624e12,
        memoryBandwidthBytesPerSecond: 2.039e12, interconnectBytesPerSecond: 600e9)

    /// NVIDIA L4 24GB (L4 Tensor Core GPU datasheet): 121 TFLOP/s dense BF16, 242.5 dense FP8 and INT8 (485 with
    /// sparsity), 300 GB/s GDDR6, no NVLink (PCIe Gen4 x16, 64 GB/s).
    public static let l4 = GPUSpec(
        name: "L4", memoryBytes: 24 * gibibyte, denseBF16FLOPsPerSecond: 121e12, denseFP8FLOPsPerSecond: 242.5e12,
        denseINT8OpsPerSecond: 242.5e12, memoryBandwidthBytesPerSecond: 300e9, interconnectBytesPerSecond: 64e9)

    /// NVIDIA B200 as in HGX B200 and DGX B200 (1,000 W; HGX B200 and DGX B200 datasheets, per GPU): 2.25 PFLOP/s
    /// dense BF16, 4.5 dense FP8 and INT8 (the datasheets' 72 PFLOPS FP8 per 8 GPUs is with sparsity), 180 GB
    /// HBM3e (1,440 GB per 8 GPUs; the driver reports 183,359 MiB), 8 TB/s (64 TB/s per 8 GPUs), 1.8 TB/s NVLink 5.
    /// Its FP4 tensor cores are not used: see docs/calibration.md on MXFP4.
    public static let b200 = GPUSpec(
        name: "B200", memoryBytes: 180 * gibibyte, denseBF16FLOPsPerSecond: 2.25e15, denseFP8FLOPsPerSecond: 4.5e15,
        denseINT8OpsPerSecond: 4.5e15, memoryBandwidthBytesPerSecond: 8e12, interconnectBytesPerSecond: 1.8e12)

    /// AMD Instinct MI300X (AMD Instinct MI300X data sheet): 1,307.4 TFLOP/s dense BF16, 2,614.9 dense FP8 and INT8
    /// (twice that with sparsity), 192 GB HBM3 at 5.3 TB/s, seven Infinity Fabric links of 128 GB/s each (896 GB/s)
    /// in a fully connected 8-GPU mesh.
    public static let mi300x = GPUSpec(
        name: "MI300X", memoryBytes: 192 * gibibyte, denseBF16FLOPsPerSecond: 1_307.4e12,
        denseFP8FLOPsPerSecond: 2_614.9e12, denseINT8OpsPerSecond: 2_614.9e12, memoryBandwidthBytesPerSecond: 5.3e12,
        interconnectBytesPerSecond: 896e9, meshLinks: 7)

    /// NVIDIA L40S (L40S datasheet): 362 TFLOP/s dense BF16, 733 dense FP8 and INT8 (1,466 with sparsity), 48 GB
    /// GDDR6 at 864 GB/s, no NVLink (PCIe Gen4 x16, 64 GB/s).
    public static let l40s = GPUSpec(
        name: "L40S", memoryBytes: 48 * gibibyte, denseBF16FLOPsPerSecond: 362.05e12, denseFP8FLOPsPerSecond: 733e12,
        denseINT8OpsPerSecond: 733e12, memoryBandwidthBytesPerSecond: 864e9, interconnectBytesPerSecond: 64e9)

    /// The built-in GPUs, in a fixed order.
    public static let builtIns: [GPUSpec] = [h100_80GB, h200_141GB, a100_80GB, l4, b200, mi300x, l40s]

    /// Other names accepted by ``named(_:)``, each with the canonical name it stands for.
    public static let aliases: [(alias: String, name: String)] = [
        ("H100", "H100-80GB"), ("H100-SXM", "H100-80GB"), ("H100-SXM5-80GB", "H100-80GB"),
        ("H200", "H200-141GB"), ("A100", "A100-80GB"), ("A100-SXM4-80GB", "A100-80GB"),
        ("L4-24GB", "L4"), ("B200-180GB", "B200"), ("MI300X-192GB", "MI300X"), ("L40S-48GB", "L40S"),
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
