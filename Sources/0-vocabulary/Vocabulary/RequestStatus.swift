// The words the simulator and the results store share. This module depends on nothing, so the store can
// speak them without knowing any simulator type.

/// How a request ended. Every request generated ends in exactly one of these.
///
/// The raw values are what `request.status` stores; the case order is `index`, which run digests mix in,
/// so neither may change.
public enum RequestStatus: String, Sendable, CaseIterable {
    /// Served to the last token.
    case completed
    /// Refused on arrival (a full queue, or no replica to serve it).
    case rejected
    /// Its deadline (the workload's `timeout`) passed before it completed.
    case timedOut = "timed_out"
    /// Lost to a fault.
    case failed
    /// Still in flight when the run stopped (at the horizon without drain, or at the drain limit).
    case unfinished
}

extension RequestStatus {
    /// The position in `allCases`, computed without building the array (used on the hot path).
    @inlinable public var index: Int {
        switch self {
        case .completed: return 0
        case .rejected: return 1
        case .timedOut: return 2
        case .failed: return 3
        case .unfinished: return 4
        }
    }

    /// The status at `index` in `allCases`.
    @inlinable public init(index: Int) {
        self = [.completed, .rejected, .timedOut, .failed, .unfinished][index]
    }
}
