/// Settings of a GPU inference replica: its engine, its KV capacity and how its steps are timed.
public struct GPUReplicaSpec: Sendable, Equatable {
    public var engine: EngineSettings
    /// KV cache capacity in blocks of `engine.blockSize` tokens.
    public var kvBlocks: Int
    public var timing: StepTimingSpec
    /// LoRA adapters (vLLM's `--enable-lora`, set by `max-loras`); nil serves the base model only.
    public var lora: LoRASettings?
    /// A CPU tier for KV blocks (vLLM's native offloading connector); nil: none, as vLLM without
    /// `--kv-offloading-size`.
    public var kvOffload: KVOffloadSpec?

    public init(
        engine: EngineSettings = EngineSettings(), kvBlocks: Int, timing: StepTimingSpec, lora: LoRASettings? = nil,
        kvOffload: KVOffloadSpec? = nil
    ) {
        self.engine = engine
        self.kvBlocks = kvBlocks
        self.timing = timing
        self.lora = lora
        self.kvOffload = kvOffload
    }
}

extension GPUReplicaSpec {
    /// Memory per GPU that vLLM's profiling run sets aside besides weights and KV: peak activations at
    /// `max-num-batched-tokens`, CUDA graphs and the runtime. A single documented estimate, not a measurement.
    public static let nonKVReserveBytesPerGPU = 4 << 30

    /// KV blocks as vLLM sizes them: the GPUs' memory × `gpu-memory-utilization`, less the weights and the
    /// per-GPU reserve, divided by the KV bytes of a block. Nil when nothing is left.
    public static func kvBlocks(
        _ deployment: ModelDeployment, gpuMemoryUtilization: Double, blockSize: Int
    ) -> Int? {
        deployment.kvBlocks(
            gpuMemoryUtilization: gpuMemoryUtilization, blockSize: blockSize,
            reserveBytesPerGPU: nonKVReserveBytesPerGPU)
    }

    /// KV blocks of a model served as published, split over `tensorParallelSize` GPUs.
    public static func kvBlocks(
        gpu: GPUSpec, model: LLMSpec, tensorParallelSize: Int, gpuMemoryUtilization: Double, blockSize: Int
    ) -> Int? {
        kvBlocks(
            ModelDeployment(gpu: gpu, model: model, tensorParallelSize: tensorParallelSize),
            gpuMemoryUtilization: gpuMemoryUtilization, blockSize: blockSize)
    }
}

/// Which step-timing model a GPU replica uses.
public enum StepTimingSpec: Sendable, Equatable {
    /// `fixed + perToken × batch tokens`: a first-order model for what-if studies and tests.
    case linear(fixed: SimTime, perTokenNanoseconds: Int64)
    /// The roofline from the GPU's and the model's specs, at the deployment's parallelism and precision.
    case roofline(ModelDeployment)
    /// Profiles fitted to measurements (see docs/calibration.md); only BF16 built-in deployments have them.
    case fitted(ModelDeployment)
    /// The roofline with factors calibrated to the user's own measurements (`infermesh calibrate`, written as
    /// `timing: {profile: FILE}`).
    case profile(ModelDeployment, RooflineTiming.Factors)

    /// The timing models' names, as written in scenarios (`timing: NAME`; a calibrated profile is `{profile: FILE}`).
    public static let names = ["fitted", "roofline"]

    /// The model on its GPUs; nil for the linear model, which knows neither.
    public var deployment: ModelDeployment? {
        switch self {
        case .linear: return nil
        case .roofline(let deployment), .fitted(let deployment), .profile(let deployment, _): return deployment
        }
    }

    /// Builds the model, or nil when no fitted profile exists for the deployment.
    public func make() -> (any StepTimingModel)? {
        switch self {
        case .linear(let fixed, let perToken): return LinearStepTiming(fixed: fixed, perTokenNanoseconds: perToken)
        case .roofline(let deployment): return RooflineTiming(deployment)
        case .fitted(let deployment): return FittedProfileTiming.profile(for: deployment)
        case .profile(let deployment, let factors): return RooflineTiming(deployment, factors: factors)
        }
    }
}

/// A step time of `fixed + perToken × batch tokens`.
public struct LinearStepTiming: StepTimingModel {
    public var fixed: SimTime
    public var perTokenNanoseconds: Int64

    public init(fixed: SimTime, perTokenNanoseconds: Int64) {
        self.fixed = fixed
        self.perTokenNanoseconds = perTokenNanoseconds
    }

    public func stepDuration(_ shape: StepShape) -> SimTime {
        fixed + SimTime(nanoseconds: perTokenNanoseconds * Int64(shape.batchTokens))
    }
}
