import Fleet

/// A step-timing profile calibrated to one setup's measurements (`infermesh calibrate`): the roofline's factors as
/// fitted, the setup they hold for, the inputs they came from, and how well they fit.
///
/// A scenario names the file with `timing: {profile: FILE}`; only `setup` and `parameters` decide a step's time, the
/// rest is the record of the fit, so a person can read and edit the parameters (the fit then describes the old ones).
public struct TimingProfile: Sendable, Equatable {
    /// The file format's version, written as `profile: 1`.
    public static let formatVersion = 1

    /// The GPU, model, parallelism and precision the profile was measured on: vLLM's engine arguments.
    public struct Setup: Sendable, Equatable, CustomStringConvertible {
        public var hardware: String
        public var model: String
        public var tensorParallelSize: Int
        public var quantization: Quantization?
        public var kvCacheDType: KVCacheDType
        public var enableExpertParallel: Bool

        public init(_ deployment: ModelDeployment) {
            hardware = deployment.gpu.name
            model = deployment.model.name
            tensorParallelSize = deployment.tensorParallelSize
            quantization = deployment.quantization
            kvCacheDType = deployment.kvCacheDType
            enableExpertParallel = deployment.enableExpertParallel
        }

        public init(
            hardware: String, model: String, tensorParallelSize: Int, quantization: Quantization?,
            kvCacheDType: KVCacheDType, enableExpertParallel: Bool
        ) {
            self.hardware = hardware
            self.model = model
            self.tensorParallelSize = tensorParallelSize
            self.quantization = quantization
            self.kvCacheDType = kvCacheDType
            self.enableExpertParallel = enableExpertParallel
        }

        /// Whether `deployment` is this setup (names compared in their canonical spelling).
        public func matches(_ deployment: ModelDeployment) -> Bool { self == Setup(deployment) }

        public var description: String {
            var parts = [hardware, model, "tensor-parallel-size \(tensorParallelSize)"]
            if let quantization { parts.append("quantization \(quantization.rawValue)") }
            if kvCacheDType != .auto { parts.append("kv-cache-dtype \(kvCacheDType.rawValue)") }
            if enableExpertParallel { parts.append("enable-expert-parallel") }
            return parts.joined(separator: ", ")
        }
    }

    /// A tunable factor of the roofline, under the name the file uses. The one list of them: the fit, the file and
    /// the docs all go through it.
    public enum Parameter: String, Sendable, CaseIterable {
        case computeEfficiency = "compute-efficiency"
        case attentionComputeEfficiency = "attention-compute-efficiency"
        case memoryEfficiency = "memory-efficiency"
        case allReduceBandwidthEfficiency = "all-reduce-bandwidth-efficiency"
        case allReduceLatency = "all-reduce-latency-us"
        case stepOverhead = "step-overhead-us"
        case perSequenceOverhead = "per-sequence-overhead-us"

        /// Efficiencies are fractions of a datasheet peak; the rest are times, written in microseconds.
        public var isEfficiency: Bool {
            switch self {
            case .computeEfficiency, .attentionComputeEfficiency, .memoryEfficiency, .allReduceBandwidthEfficiency:
                return true
            case .allReduceLatency, .stepOverhead, .perSequenceOverhead: return false
            }
        }

        /// The value as written: a fraction, or microseconds.
        public func value(in factors: RooflineTiming.Factors) -> Double {
            switch self {
            case .computeEfficiency: return factors.computeEfficiency
            case .attentionComputeEfficiency: return factors.attentionComputeEfficiency ?? factors.computeEfficiency
            case .memoryEfficiency: return factors.memoryEfficiency
            case .allReduceBandwidthEfficiency: return factors.allReduceBandwidthEfficiency
            case .allReduceLatency: return factors.allReduceLatencySeconds * 1e6
            case .stepOverhead: return factors.stepOverheadSeconds * 1e6
            case .perSequenceOverhead: return factors.perSequenceOverheadSeconds * 1e6
            }
        }

        /// Sets the value, as written (a fraction, or microseconds).
        public func set(_ value: Double, in factors: inout RooflineTiming.Factors) {
            switch self {
            case .computeEfficiency: factors.computeEfficiency = value
            case .attentionComputeEfficiency: factors.attentionComputeEfficiency = value
            case .memoryEfficiency: factors.memoryEfficiency = value
            case .allReduceBandwidthEfficiency: factors.allReduceBandwidthEfficiency = value
            case .allReduceLatency: factors.allReduceLatencySeconds = value * 1e-6
            case .stepOverhead: factors.stepOverheadSeconds = value * 1e-6
            case .perSequenceOverhead: factors.perSequenceOverheadSeconds = value * 1e-6
            }
        }

        /// What the parameter means, for the file's comments and the docs.
        public var meaning: String {
            switch self {
            case .computeEfficiency: return "share of the GPU's dense peak the matrix multiplies reach"
            case .attentionComputeEfficiency: return "share of the dense BF16 peak attention reaches"
            case .memoryEfficiency: return "share of HBM bandwidth weight and KV reads reach"
            case .allReduceBandwidthEfficiency:
                return "share of the one-way interconnect bandwidth an all-reduce reaches"
            case .allReduceLatency: return "fixed cost of one all-reduce call, µs"
            case .stepOverhead: return "CPU time added to every step, µs"
            case .perSequenceOverhead: return "CPU time per sequence in a step, µs"
            }
        }
    }

    /// One file the profile was fitted on.
    public struct Input: Sendable, Equatable {
        /// What the file holds.
        public enum Kind: String, Sendable, CaseIterable {
            /// `kind,batch,tokens,context,ms` rows.
            case stepTimes = "step-times"
            /// A `vllm bench serve --save-result` JSON file.
            case benchmark = "vllm-bench-serve"
        }

        public var file: String
        public var kind: Kind
        public var sha256: String

        public init(file: String, kind: Kind, sha256: String) {
            self.file = file
            self.kind = kind
            self.sha256 = sha256
        }
    }

    /// One measured value and what the profile predicts for it.
    public struct Point: Sendable, Equatable {
        /// The input file it comes from.
        public var input: String
        /// Where in the file, and what: `line 3: decode 8 x 576`, or a benchmark metric's name.
        public var what: String
        /// The measured value (ms, or tok/s for a throughput).
        public var measured: Double
        /// The profile's prediction.
        public var predicted: Double
        /// The prediction of the profile fitted without this point (or without its file), if computed.
        public var heldOut: Double?

        public init(input: String, what: String, measured: Double, predicted: Double, heldOut: Double? = nil) {
            self.input = input
            self.what = what
            self.measured = measured
            self.predicted = predicted
            self.heldOut = heldOut
        }

        /// (predicted − measured) / measured.
        public var error: Double { (predicted - measured) / measured }
        /// The held-out prediction's relative error.
        public var heldOutError: Double? { heldOut.map { ($0 - measured) / measured } }
    }

    public var setup: Setup
    public var factors: RooflineTiming.Factors
    /// The parameters the fit chose, in ``Parameter`` order; the others kept their default or written value.
    public var fitted: [Parameter]
    /// Why each parameter that was not fitted was held, in ``Parameter`` order.
    public var held: [(parameter: Parameter, reason: String)]
    public var inputs: [Input]
    public var points: [Point]
    /// What one leave-one-out fit leaves out: `point` or `file`.
    public var leaveOneOutUnit: String
    /// The version of infermesh that wrote the file.
    public var writtenBy: String

    public init(
        setup: Setup, factors: RooflineTiming.Factors, fitted: [Parameter] = [],
        held: [(parameter: Parameter, reason: String)] = [], inputs: [Input] = [], points: [Point] = [],
        leaveOneOutUnit: String = "point", writtenBy: String = ""
    ) {
        self.setup = setup
        self.factors = factors
        self.fitted = fitted
        self.held = held
        self.inputs = inputs
        self.points = points
        self.leaveOneOutUnit = leaveOneOutUnit
        self.writtenBy = writtenBy
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.setup == b.setup && a.factors == b.factors && a.fitted == b.fitted
            && a.held.map(\.parameter) == b.held.map(\.parameter) && a.held.map(\.reason) == b.held.map(\.reason)
            && a.inputs == b.inputs && a.points == b.points && a.leaveOneOutUnit == b.leaveOneOutUnit
            && a.writtenBy == b.writtenBy
    }

    /// The mean and worst |relative error| of the fit over its points.
    public var fitError: (mean: Double, worst: Double) { Self.summarize(points.map(\.error)) }

    /// The mean and worst |relative error| of the held-out predictions, or nil when none were computed.
    public var heldOutError: (mean: Double, worst: Double)? {
        let errors = points.compactMap(\.heldOutError)
        return errors.isEmpty ? nil : Self.summarize(errors)
    }

    static func summarize(_ errors: [Double]) -> (mean: Double, worst: Double) {
        guard !errors.isEmpty else { return (0, 0) }
        let absolute = errors.map(abs)
        return (absolute.reduce(0, +) / Double(absolute.count), absolute.max() ?? 0)
    }
}
