/// A point or span of simulated time, in integer nanoseconds.
///
/// Integer time makes event order exact: no epsilon, no drift from summing floats.
/// `Double` seconds appear only at the edges (parsing, reports, CSV).
public struct SimTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the start of the run (or the length of a span).
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = SimTime(nanoseconds: 0)
    /// The largest representable time; used as "never".
    public static let max = SimTime(nanoseconds: .max)

    @inlinable public static func nanoseconds(_ n: Int64) -> SimTime { SimTime(nanoseconds: n) }
    @inlinable public static func microseconds(_ n: Int64) -> SimTime { SimTime(nanoseconds: n * 1_000) }
    @inlinable public static func milliseconds(_ n: Int64) -> SimTime { SimTime(nanoseconds: n * 1_000_000) }
    @inlinable public static func seconds(_ n: Int64) -> SimTime { SimTime(nanoseconds: n * 1_000_000_000) }

    /// Converts seconds to the nearest nanosecond, saturating at ``max``. Integer literals pick the `Int64` form.
    @_disfavoredOverload
    @inlinable @inline(__always) public static func seconds(_ s: Double) -> SimTime {
        let ns = s * 1e9
        if ns >= 0 && ns < 9.2e18 { return SimTime(nanoseconds: Int64(ns + 0.5)) }  // the hot path: no libm call
        if ns >= 9.2e18 { return .max }
        if ns <= -9.2e18 { return SimTime(nanoseconds: .min) }
        return SimTime(nanoseconds: Int64(ns.rounded()))
    }

    /// This time in seconds (for reports only).
    @inlinable public var seconds: Double { Double(nanoseconds) / 1e9 }
    /// This time in milliseconds (for reports only).
    @inlinable public var milliseconds: Double { Double(nanoseconds) / 1e6 }

    @inlinable public static func < (a: SimTime, b: SimTime) -> Bool { a.nanoseconds < b.nanoseconds }
    @inlinable public static func + (a: SimTime, b: SimTime) -> SimTime {
        let (sum, overflow) = a.nanoseconds.addingReportingOverflow(b.nanoseconds)
        return overflow ? .max : SimTime(nanoseconds: sum)
    }
    @inlinable public static func - (a: SimTime, b: SimTime) -> SimTime {
        SimTime(nanoseconds: a.nanoseconds - b.nanoseconds)
    }
    @inlinable public static func += (a: inout SimTime, b: SimTime) { a = a + b }

    public var description: String {
        let ns = nanoseconds
        if ns == .max { return "never" }
        if ns != 0 && ns % 3_600_000_000_000 == 0 { return "\(ns / 3_600_000_000_000)h" }
        if ns != 0 && ns % 60_000_000_000 == 0 { return "\(ns / 60_000_000_000)m" }
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        if ns % 1_000 == 0 { return "\(ns / 1_000)us" }
        return "\(ns)ns"
    }
}
