import Fleet

extension NodeReader {
    /// `schedule`: exactly one of `steps`, `ramp`, `diurnal` or `spike`; `baseRate` is the workload's `rate`.
    func schedule(baseRate: Double) throws(ScenarioError) -> RateSchedule {
        let forms = ScenarioKeys.schedule.joined(separator: ", ")
        let fields = try mapping(
            keys: ScenarioKeys.schedule,
            what:
                "a mapping with one of \(forms), like {spike: {start: 3m, ramp-up: 30s, peak: 3, hold: 2m, decay: 1m}}"
        )
        guard let (form, reader) = fields.entries.elements.first else {
            throw error("expected one of \(forms), found an empty mapping")
        }
        if fields.entries.count > 1, let second = fields.entries.keys.dropFirst().first {
            throw (fields.keyReader(second) ?? self).error(
                "a schedule takes one form; found both `\(form)` and `\(second)`")
        }
        switch form {
        case "steps": return try reader.scheduleSteps(baseRate: baseRate)
        case "ramp": return try reader.scheduleRamp(baseRate: baseRate)
        case "diurnal": return try reader.scheduleDiurnal(baseRate: baseRate)
        default: return try reader.scheduleSpike(baseRate: baseRate)
        }
    }

    /// `steps`: `[{at: D, rate: R}, ...]` at strictly increasing times; `rate` (the base) applies before the first.
    private func scheduleSteps(baseRate: Double) throws(ScenarioError) -> RateSchedule {
        var steps: [(at: SimTime, ratePerSecond: Double)] = []
        for item in try sequence(nonEmpty: true, of: "steps like {at: 2m, rate: 60/s}") {
            let fields = try item.mapping(keys: ScenarioKeys.scheduleStep, what: "a step like {at: 2m, rate: 60/s}")
            let atReader = try fields.required("at", expecting: "a duration >= 0, like 2m")
            let at = try atReader.duration(allowZero: true)
            if let previous = steps.last {
                try atReader.requireAfter(at, previous.at, what: "a time after the previous step's (\(previous.at))")
            }
            let rate = try fields.required("rate", expecting: "a rate >= 0, like 60/s").rate(allowZero: true)
            steps.append((at, rate))
        }
        return .steps(base: baseRate, steps)
    }

    /// `ramp`: `{from: R, to: R, start: D, end: D}`; `start` defaults to 0s.
    private func scheduleRamp(baseRate: Double) throws(ScenarioError) -> RateSchedule {
        let fields = try mapping(
            keys: ScenarioKeys.scheduleRamp, what: "a mapping like {from: 10/s, to: 60/s, start: 0s, end: 10m}")
        let from = try fields.required("from", expecting: "a rate >= 0, like 10/s").rate(allowZero: true)
        let to = try fields.required("to", expecting: "a rate >= 0, like 60/s").rate(allowZero: true)
        let start = try fields["start"]?.duration(allowZero: true) ?? .zero
        let endReader = try fields.required("end", expecting: "a duration after `start`, like 10m")
        let end = try endReader.duration(allowZero: false)
        try endReader.requireAfter(end, start, what: "an end after the start (\(start))")
        return .ramp(base: baseRate, from: from, to: to, start: start, end: end)
    }

    /// `diurnal`: `{period: D, amplitude: A, peak-at: D}`, 0 <= A <= 1; `peak-at` defaults to 0s.
    private func scheduleDiurnal(baseRate: Double) throws(ScenarioError) -> RateSchedule {
        let fields = try mapping(
            keys: ScenarioKeys.diurnal, what: "a mapping like {period: 24h, amplitude: 0.5, peak-at: 14h}")
        let period = try fields.required("period", expecting: "a duration > 0, like 24h").duration(allowZero: false)
        let amplitudeReader = try fields.required("amplitude", expecting: "a number in 0...1")
        let amplitude = try amplitudeReader.number(.nonNegative)
        guard amplitude <= 1 else {
            throw amplitudeReader.expected("an amplitude in 0...1 (above 1 the rate would go negative)")
        }
        let peakAt = try fields["peak-at"]?.duration(allowZero: true) ?? .zero
        return .diurnal(base: baseRate, period: period, amplitude: amplitude, peakAt: peakAt)
    }

    /// `spike`: `{start: D, ramp-up: D, peak: M, hold: D, decay: D}`; the three phases default to 0s.
    private func scheduleSpike(baseRate: Double) throws(ScenarioError) -> RateSchedule {
        let fields = try mapping(
            keys: ScenarioKeys.spike, what: "a mapping like {start: 3m, ramp-up: 30s, peak: 3, hold: 2m, decay: 1m}")
        let start = try fields.required("start", expecting: "a duration >= 0, like 3m").duration(allowZero: true)
        let peak = try fields.required("peak", expecting: "a multiplier of the rate, like 3").multiplier()
        var at = start
        var phases: [SimTime] = []
        for key in ["ramp-up", "hold", "decay"] {
            guard let reader = fields[key] else {
                phases.append(.zero)
                continue
            }
            let length = try reader.duration(allowZero: true)
            let (sum, overflow) = at.nanoseconds.addingReportingOverflow(length.nanoseconds)
            guard !overflow else { throw reader.error("the spike would end after 2^63-1 ns (about 292 years)") }
            if length > .zero { try reader.requireAfter(SimTime(nanoseconds: sum), at, what: "a longer phase") }
            at = SimTime(nanoseconds: sum)
            phases.append(length)
        }
        return .spike(base: baseRate, start: start, rampUp: phases[0], peak: peak, hold: phases[1], decay: phases[2])
    }

    /// Checks that `time` is after `previous` also in seconds as a Double (the schedule's arithmetic), where
    /// nanoseconds apart can round together beyond about 104 days.
    private func requireAfter(_ time: SimTime, _ previous: SimTime, what: String) throws(ScenarioError) {
        guard time > previous, time.seconds > previous.seconds else { throw expected(what) }
    }
}
