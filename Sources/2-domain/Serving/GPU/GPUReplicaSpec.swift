/// Settings of a GPU inference replica: its engine, its KV capacity and how its steps are timed.
public struct GPUReplicaSpec: Sendable, Equatable {
    public var engine: EngineSettings
    /// KV cache capacity in blocks of `engine.blockSize` tokens.
    public var kvBlocks: Int
    public var timing: StepTimingSpec

    public init(engine: EngineSettings = EngineSettings(), kvBlocks: Int, timing: StepTimingSpec) {
        self.engine = engine
        self.kvBlocks = kvBlocks
        self.timing = timing
    }
}

/// Which step-timing model a GPU replica uses.
public enum StepTimingSpec: Sendable, Equatable {
    /// `fixed + perToken × batch tokens`: a first-order model for what-if studies and tests.
    case linear(fixed: SimTime, perTokenNanoseconds: Int64)

    /// Builds the model.
    public func make() -> any StepTimingModel {
        switch self {
        case .linear(let fixed, let perToken): return LinearStepTiming(fixed: fixed, perTokenNanoseconds: perToken)
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
