import Foundation
import Scenarios
public import SimKernel

/// How the fuzzer runs the mutants that validate, and what counts as too slow.
public struct FuzzOptions: Sendable {
    /// The seed every mutant and run choice derives from.
    public var seed: UInt64
    /// Runs stop generating requests at this time, or at the mutant's own horizon if it is shorter...
    public var runHorizon: SimTime
    /// ...except one run in this many (drawn per mutant), which keeps the mutant's own horizon, however long,
    /// so that large times still meet the arithmetic; 0 never does.
    public var fullHorizonOneIn: Int
    /// The most events a run processes (``FleetRun/execute``'s `eventLimit`): the bound on a mutant's work,
    /// whatever rates, sizes or horizon it asks for.
    public var eventLimit: UInt64
    /// The same for runs at the mutant's own horizon, which would otherwise all run to the limit.
    public var fullHorizonEventLimit: UInt64
    /// One valid mutant in this many (drawn per mutant) is run twice and must give the same digest; 0 never.
    public var determinismOneIn: Int
    /// A valid mutant with more replica slots than this (pools' replicas or autoscalers' maximum) is not run:
    /// memory grows with the fleet (a GPU replica holds its KV cache's tables), and 100,000 replicas, which the
    /// loader allows, take gigabytes. The runs look for wrong logic, not for capacity.
    public var maxReplicas: Int
    /// Wall-clock seconds a mutant may take, validation and run together, before it counts as a hang.
    public var wallBudgetSeconds: Double

    /// The settings of `make fuzz`: 2 s runs of at most 50,000 events (one in ten at the mutant's horizon, up to
    /// 20,000 events), fleets of at most 1,000 replicas, 60 s per mutant.
    public init(
        seed: UInt64 = 42, runHorizon: SimTime = .seconds(2), fullHorizonOneIn: Int = 10,
        eventLimit: UInt64 = 50_000, fullHorizonEventLimit: UInt64 = 20_000, determinismOneIn: Int = 16,
        maxReplicas: Int = 1_000, wallBudgetSeconds: Double = 60
    ) {
        self.seed = seed
        self.runHorizon = runHorizon
        self.fullHorizonOneIn = fullHorizonOneIn
        self.eventLimit = eventLimit
        self.fullHorizonEventLimit = fullHorizonEventLimit
        self.determinismOneIn = determinismOneIn
        self.maxReplicas = maxReplicas
        self.wallBudgetSeconds = wallBudgetSeconds
    }
}

/// What became of one mutant.
public struct MutantResult: Codable, Sendable, Equatable {
    /// The verdict.
    public enum Outcome: String, Codable, Sendable, CaseIterable {
        /// The loader refused it with a located error (file, line and column): as it should.
        case rejected
        /// It validated and its short run passed every check.
        case ran
        /// It validated, but its fleet is over ``FuzzOptions/maxReplicas``, so it was not run.
        case tooLarge = "too-large"
        /// The loader refused it without a usable location: a bug.
        case unlocated
        /// The run threw, broke an invariant or was not deterministic: a bug.
        case runFailure = "run-failure"
        /// A request of the run ended without a terminal status: a bug.
        case unterminated
        /// The process died (a trap: precondition, overflow, force-unwrap...): a bug.
        case crash
        /// It took longer than the wall budget: a bug.
        case hang

        /// Whether the loader accepted the mutant (whatever its run then did).
        public var isValidated: Bool {
            self == .ran || self == .tooLarge || self == .runFailure || self == .unterminated
        }

        /// Whether this outcome is a failure of the product.
        public var isFailure: Bool { self != .rejected && self != .ran && self != .tooLarge }
    }

    /// The mutant's index.
    public var index: Int
    /// The corpus file it was made from.
    public var source: String
    /// The operators applied (``MutationOperator`` raw values).
    public var operators: [String]
    /// The verdict.
    public var outcome: Outcome
    /// The rejection's error line, the run's failure, or for a crash what the process printed last.
    public var detail: String
    /// The policy the run used.
    public var policy: String?
    /// Why the run stopped: `drained`, `drainLimit` or `eventLimit`.
    public var stop: String?
    /// Requests the run made.
    public var requests: Int = 0
    /// Events the run processed.
    public var events: UInt64 = 0
    /// Wall-clock seconds (not part of the verdict's determinism; used for the hang check).
    public var wallSeconds: Double = 0

    /// A result with no run figures yet.
    public init(index: Int, source: String, operators: [String], outcome: Outcome, detail: String) {
        self.index = index
        self.source = source
        self.operators = operators
        self.outcome = outcome
        self.detail = detail
    }
}

/// Validates a mutant the way `infermesh validate` does and gives a valid one a short, bounded run, checking
/// what the fuzzer requires: a location on every rejection, no request without a terminal status, the run's
/// own invariants, and (for some) the same digest twice.
public struct MutantChecker {
    /// The corpus, whose folder relative paths in a mutant start from.
    public let corpus: FuzzCorpus
    /// The seed and the runs' settings.
    public let options: FuzzOptions

    /// A checker of mutants of `corpus` with `options`.
    public init(corpus: FuzzCorpus, options: FuzzOptions) {
        self.corpus = corpus
        self.options = options
    }

    /// Checks `mutant`, named `file` in errors (by default its ``Mutant/fileName(seed:)``). A crash ends the
    /// process; the caller sees it as such (see ``FuzzCampaign``).
    public func check(_ mutant: Mutant, file: String? = nil) -> MutantResult {
        let start = DispatchTime.now().uptimeNanoseconds
        var result = verdict(mutant, file: file ?? mutant.fileName(seed: options.seed))
        result.wallSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if !result.outcome.isFailure && result.wallSeconds > options.wallBudgetSeconds {
            result.outcome = .hang
            result.detail =
                "took \(String(format: "%.1f", result.wallSeconds)) s, over the budget of "
                + "\(String(format: "%g", options.wallBudgetSeconds)) s (\(result.detail))"
        }
        return result
    }

    private func verdict(_ mutant: Mutant, file: String) -> MutantResult {
        var result = MutantResult(
            index: mutant.index, source: mutant.source, operators: mutant.operators, outcome: .rejected, detail: "")
        let scenario: Scenario
        do {
            // `infermesh validate` reads the file and calls this with the file's folder as the base directory.
            scenario = try ScenarioLoader.parse(mutant.text, file: file, baseDirectory: corpus.directory)
        } catch {
            result.detail = error.description
            if let problem = Self.locationProblem(error, file: file, text: mutant.text) {
                result.outcome = .unlocated
                result.detail = "\(problem): \(error.description)"
            }
            return result
        }
        run(scenario, index: mutant.index, into: &result)
        return result
    }

    /// What is wrong with a rejection's location, or nil if it names the file, a line of the text, a column of
    /// that line (or just past its end) and says something.
    static func locationProblem(_ error: ScenarioError, file: String, text: String) -> String? {
        guard error.file == file else { return "the error names the file `\(error.file)`" }
        guard let line = error.line, let column = error.column else { return "no line and column" }
        let lengths = lineLengths(text)
        guard line >= 1, line <= lengths.count else {
            return "line \(line) is outside the text's \(lengths.count) lines"
        }
        guard column >= 1, column <= lengths[line - 1] + 1 else {
            return "column \(column) is outside line \(line), which has \(lengths[line - 1]) characters"
        }
        guard !error.message.isEmpty else { return "no message" }
        return nil
    }

    /// Each line's length in Unicode scalars, as libyaml counts lines and columns: LF, CR, CR LF, NEL, LS and
    /// PS end a line (the text after the last break is a line too, maybe empty); a leading byte-order mark is
    /// not counted.
    static func lineLengths(_ text: String) -> [Int] {
        var lengths: [Int] = []
        var length = 0
        var previous: Unicode.Scalar = " "
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            defer { previous = scalar }
            switch scalar {
            case "\n" where previous == "\r": continue
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                lengths.append(length)
                length = 0
            case "\u{FEFF}" where offset == 0: continue
            default: length += 1
            }
        }
        lengths.append(length)
        return lengths
    }

    /// The short run: one of the scenario's policies, drain on, the horizon shortened, the event limit.
    ///
    /// Drain is forced on so that "every request has a terminal status" can be checked strictly: a run that
    /// drains to an empty event list must end every request (`unfinished` there is a bug). Only a run cut short
    /// by the drain timeout or the event limit may leave requests `unfinished`, which is then their terminal
    /// status by definition (`RequestStatus.unfinished`: still in flight when the run stopped).
    private func run(_ scenario: Scenario, index: Int, into result: inout MutantResult) {
        let random = FuzzRandom(RandomStream(name: "fuzz/mutant/\(index)/run", runSeed: options.seed))
        let policy = random.pick(scenario.policies)
        var spec = scenario.fleet
        let fullHorizon = options.fullHorizonOneIn > 0 && random.oneIn(options.fullHorizonOneIn)
        if !fullHorizon && spec.horizon > options.runHorizon {
            spec.horizon = options.runHorizon
            if spec.warmup >= spec.horizon { spec.warmup = .zero }
        }
        spec.drain = true
        let eventLimit = fullHorizon ? options.fullHorizonEventLimit : options.eventLimit
        let twice = options.determinismOneIn > 0 && random.oneIn(options.determinismOneIn)
        result.policy = policy
        let replicas = spec.pools.reduce(0) { $0 + $1.replicaSlots }
        guard replicas <= options.maxReplicas else {
            result.outcome = .tooLarge
            result.detail = "\(replicas) replicas, over the \(options.maxReplicas) the fuzzer runs"
            return
        }
        do {
            // Requests are audited as the run hands them out, not kept: memory stays bounded by the event limit.
            let audit = RequestAudit()
            let output = try FleetRun.execute(
                spec, policy: policy, seed: scenario.seed, sinks: [audit], keepRequests: false, eventLimit: eventLimit)
            result.outcome = .ran
            result.stop = "\(output.stopReason)"
            result.requests = output.requestCount
            result.events = output.events
            result.detail =
                "\(policy), horizon \(spec.horizon): \(output.requestCount) requests, \(output.events) events, "
                + "stopped: \(output.stopReason)"
            if let problem = audit.problem(in: output) {
                result.outcome = .unterminated
                result.detail = "\(problem) (\(result.detail))"
                return
            }
            if twice {
                let again = try FleetRun.execute(
                    spec, policy: policy, seed: scenario.seed, keepRequests: false, eventLimit: eventLimit)
                if again.digest != output.digest {
                    result.outcome = .runFailure
                    result.detail = "two runs of the same spec, policy and seed gave different digests"
                }
            }
        } catch {
            result.outcome = .runFailure
            result.detail = "the run threw: \(error)"
        }
    }
}

/// Checks every request a run hands out: in request order, each with a status, a terminal one with an end at or
/// after its arrival; and counts them by status, to compare with the run's own totals at the end.
final class RequestAudit: RunSink {
    private(set) var count = 0
    private(set) var byStatus = Array(repeating: 0, count: RequestStatus.allCases.count)
    private(set) var firstUnfinished: Int?
    private(set) var firstProblem: String?

    func accept(_ request: FinishedRequest) {
        let record = request.record
        defer { count += 1 }
        guard firstProblem == nil else { return }
        guard record.id.index == count else {
            firstProblem = "request \(count) was handed out as \(record.id)"
            return
        }
        guard let status = record.status else {
            firstProblem = "request \(count) has no status"
            return
        }
        byStatus[status.index] += 1
        if status == .unfinished {
            if firstUnfinished == nil { firstUnfinished = count }
        } else if record.end.map({ $0 < record.arrival }) ?? true {
            firstProblem = "request \(count) is \(status.rawValue) without an end at or after its arrival"
        }
    }

    func accept(_ sample: GaugeSample) {}

    /// What is wrong, in words, once the run is over; nil if every request has a proper terminal status.
    ///
    /// `unfinished` is a terminal status only for a run cut short (by the drain timeout or the event limit): a
    /// run that drained until no event was left must have ended every request.
    func problem(in output: RunOutput) -> String? {
        if let firstProblem { return firstProblem }
        guard count == output.requestCount else {
            return "\(output.requestCount) requests made but \(count) handed out"
        }
        let cut = output.stopReason == .drainLimit || output.stopReason == .eventLimit
        if let first = firstUnfinished, !cut {
            return "request \(first) (and \(byStatus[RequestStatus.unfinished.index] - 1) more) is unfinished "
                + "although the run drained (\(output.stopReason))"
        }
        guard byStatus == output.statusTotals else {
            return "status totals \(output.statusTotals) do not match the requests handed out \(byStatus)"
        }
        return nil
    }
}
