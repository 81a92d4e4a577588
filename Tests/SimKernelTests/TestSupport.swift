import SimKernel

/// A minimal event for toy models: its payload is its digest code.
struct Tick: DigestibleEvent, Equatable, Sendable {
    var code: UInt64
    /// When the model meant it to fire (lets handlers check `now` against the schedule).
    var due: SimTime = .zero
    var digestCode: UInt64 { code }
}
