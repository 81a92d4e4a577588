import Foundation

/// Values appended from several threads (a command's output, concurrent writers' results), read afterwards.
public final class Collected<Value>: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var storage: [Value] = []

    /// An empty collection.
    public init() {}

    /// Appends `value`.
    public func append(_ value: Value) {
        lock.withLock { storage.append(value) }
    }

    /// Everything appended so far, in order.
    public var values: [Value] { lock.withLock { storage } }
}

extension Collected where Value == String {
    /// The appended strings joined: the whole text written so far.
    public var text: String { values.joined() }
}

/// CPU seconds used by this process so far (user + system): on a busy machine more comparable than wall time.
public func processCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
        getrusage(RUSAGE_SELF, &usage)
    #endif
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}
