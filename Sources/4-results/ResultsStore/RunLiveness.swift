public import Foundation

/// Whether a `running` run still has a writer, as a reader sees it: `infermesh runs` shows a run whose writer
/// is gone as `abandoned`, and `runs --prune` deletes it.
///
/// A writer is gone when it ran on this host and its process no longer exists, or, from any host, when the run
/// has shown no sign of life (its heartbeat, or its creation for runs stored without one) for `staleAfter`. The
/// second rule also covers a process id reused by another program. Writers beat every
/// `heartbeatInterval`, so `staleAfter` should be many of those.
public struct RunLiveness: Sendable {
    /// How often a writer refreshes the heartbeat of each run it has under way.
    public static let heartbeatInterval: TimeInterval = 15
    /// Default silence after which a run counts as abandoned whatever its host.
    public static let defaultStaleAfter: TimeInterval = 300

    /// This host's name, compared with a run's `writer_host`.
    public var host: String
    /// The reader's clock.
    public var now: Date
    /// Silence, in seconds, after which a run is abandoned.
    public var staleAfter: TimeInterval
    /// Whether a process id exists on this host.
    public var processExists: @Sendable (Int32) -> Bool

    public init(
        host: String, now: Date, staleAfter: TimeInterval, processExists: @escaping @Sendable (Int32) -> Bool
    ) {
        self.host = host
        self.now = now
        self.staleAfter = staleAfter
        self.processExists = processExists
    }

    /// This host, this moment, and the system's process table.
    public static func system(staleAfter: TimeInterval = defaultStaleAfter) -> RunLiveness {
        RunLiveness(host: hostName, now: Date(), staleAfter: staleAfter, processExists: processExists)
    }

    /// Whether `run` is `running` with its writer gone.
    public func isAbandoned(_ run: StoredRun) -> Bool {
        guard run.status == .running else { return false }
        if let writer = run.writer, writer.host == host, !processExists(writer.pid) { return true }
        guard let last = Self.date(run.heartbeatAt ?? run.createdAt) else { return true }
        return now.timeIntervalSince(last) > staleAfter
    }

    /// The status a reader shows: the stored one, or `abandoned`.
    public func shownStatus(_ run: StoredRun) -> String {
        isAbandoned(run) ? Self.abandoned : run.status.rawValue
    }

    /// The shown status of a running run whose writer is gone.
    public static let abandoned = "abandoned"

    /// An ISO-8601 UTC time as the CLI writes them (with or without fractional seconds).
    ///
    /// Formatted with gmtime_r rather than an `ISO8601DateFormatter`, whose creation costs about as much as
    /// writing a batch's worth of rows does (every streamed batch takes a timestamp).
    public static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let date = "\(digits(parts.tm_year + 1900, 4))-\(digits(parts.tm_mon + 1, 2))-\(digits(parts.tm_mday, 2))"
        let time = "\(digits(parts.tm_hour, 2)):\(digits(parts.tm_min, 2)):\(digits(parts.tm_sec, 2))"
        return "\(date)T\(time).\(digits(Int32(milliseconds % 1000), 3))Z"
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// The host name from gethostname(2): `ProcessInfo.hostName` may wait on name resolution.
    public static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// kill(pid, 0): the process exists when the signal could be sent, or exists but belongs to another user.
    @Sendable static func processExists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}

/// A run `ResultsStore.prune(_:)` deleted, with the status it had as shown and the rows deleted with it.
public struct PrunedRun: Sendable, Hashable {
    public var id: Int64
    /// `failed` or `abandoned`.
    public var status: String
    /// Rows deleted from the result tables (not counting the run's own row).
    public var rows: Int

    public init(id: Int64, status: String, rows: Int) {
        self.id = id
        self.status = status
        self.rows = rows
    }
}
