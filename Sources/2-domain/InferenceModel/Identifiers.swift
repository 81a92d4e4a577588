@_exported public import SimKernel

/// A replica's index in the fleet (0-based, across all pools). Indexes arrays; never a reference.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let index: Int
    @inlinable public init(_ index: Int) { self.index = index }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
    public var description: String { "replica-\(index)" }
}

/// A pool's index in the fleet, in scenario order.
public struct PoolID: Hashable, Comparable, Sendable {
    public let index: Int
    @inlinable public init(_ index: Int) { self.index = index }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
}

/// A workload's index in the scenario, in scenario order.
public struct WorkloadID: Hashable, Comparable, Sendable {
    public let index: Int
    @inlinable public init(_ index: Int) { self.index = index }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
}

/// A request's id: dense, 0-based, in arrival order within one run.
public struct RequestID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let index: Int
    @inlinable public init(_ index: Int) { self.index = index }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
    public var description: String { "request-\(index)" }
}
