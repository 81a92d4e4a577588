import SimKernel

/// What a distribution's values measure: durations (written with units, stored in seconds) or token counts.
enum ValueUnit {
    case duration, tokens

    /// How a constant of this unit is written, for errors.
    var example: String {
        switch self {
        case .duration: return "a duration like 1s or a mapping like {dist: exponential, mean: 1s}"
        case .tokens: return "a number like 250 or a mapping like {dist: lognormal, mean: 225, cv: 1.0}"
        }
    }
}

/// The distribution forms of the format, by their `dist:` name.
enum DistributionKind: String, CaseIterable {
    case constant, exponential, gamma, lognormal, weibull, pareto, normal, uniform, poisson, empirical

    /// The keys each form accepts besides `dist`. Forms with two parameterizations list both.
    var keys: [String] {
        switch self {
        case .constant: return ["value"]
        case .exponential: return ["mean"]
        case .gamma, .weibull: return ["mean", "cv", "shape", "scale"]
        case .lognormal: return ["mean", "cv", "mu", "sigma"]
        case .pareto: return ["shape", "scale"]
        case .normal: return ["mean", "sd", "min", "max"]
        case .uniform: return ["min", "max"]
        case .poisson: return ["mean"]
        case .empirical: return ["values", "weights", "file", "column"]
        }
    }

    /// Every key any form accepts, `dist` first.
    static let allKeys: [String] = {
        var keys = ["dist"]
        for kind in allCases { for key in kind.keys where !keys.contains(key) { keys.append(key) } }
        return keys
    }()

    /// The names valid for `unit` (Poisson draws integers: it is for token counts only).
    static func names(for unit: ValueUnit) -> [String] {
        allCases.filter { unit == .tokens || $0 != .poisson }.map(\.rawValue)
    }
}

/// Shape limits for Weibull: below shape 0.02 the mean overflows; mean/cv is solved for shapes in [0.02, 100],
/// which covers CVs from 0.013 to about 10^14, and the accepted CVs stay well inside that.
enum WeibullLimits {
    static let minimumShape = 0.02
    static let cvRange: ClosedRange<Double> = 0.02...100
}

extension NodeReader {
    /// A distribution over durations (in seconds) or token counts: a bare value (a constant) or a `dist:` mapping.
    func distribution(of unit: ValueUnit) throws(ScenarioError) -> Distribution {
        if node.scalar != nil {
            if isNull { throw expected(unit.example) }
            // Something that is not even a number (`exponential`) gets the general hint; a near miss gets the
            // specific one from the duration or number reader.
            let text = scalarText ?? ""
            switch unit {
            case .duration:
                guard Units.duration(text) != .malformed else { throw expected(unit.example) }
                return .constant(try duration(allowZero: false).seconds)
            case .tokens:
                guard isBareScalar, Units.number(text) != .notANumber else { throw expected(unit.example) }
                return .constant(try number(.nonNegative))
            }
        }
        guard case .mapping = node else { throw expected(unit.example) }
        let fields = try mapping(keys: DistributionKind.allKeys, what: unit.example)
        let names = DistributionKind.names(for: unit)
        let nameReader = try fields.required("dist", expecting: "one of: \(names.joined(separator: ", "))")
        let name = try nameReader.string("one of: \(names.joined(separator: ", "))")
        guard let kind = DistributionKind(rawValue: name), names.contains(name) else {
            if name == DistributionKind.poisson.rawValue {
                throw nameReader.error(
                    "`poisson` draws whole numbers and is for token counts only; expected one of: "
                        + names.joined(separator: ", "))
            }
            throw nameReader.error("unknown distribution `\(name)`" + Suggestions.hint(for: name, among: names))
        }
        try fields.restrict(to: ["dist"] + kind.keys, subject: "`dist: \(name)`")
        let parameters = DistributionParameters(fields: fields, unit: unit)
        let distribution = try parameters.build(kind)
        guard Self.isWellFormed(distribution) else {
            throw error("these parameters give a degenerate distribution: \(distribution)")
        }
        return distribution
    }

    /// Whether every parameter is finite where it must be: derived ones (a gamma's shape from a tiny CV) may not be.
    static func isWellFormed(_ distribution: Distribution) -> Bool {
        func positive(_ values: Double...) -> Bool { values.allSatisfy { $0.isFinite && $0 > 0 } }
        switch distribution {
        case .constant(let value): return value.isFinite && value >= 0
        case .exponential(let mean): return positive(mean)
        case .gamma(let shape, let scale): return positive(shape, scale)
        case .lognormal(let mu, let sigma): return mu.isFinite && positive(sigma)
        case .weibull(let scale, let shape): return positive(scale, shape)
        case .pareto(let shape, let scale): return positive(shape, scale)
        case .truncatedNormal(let mean, let sd, let lower, let upper):
            return mean.isFinite && positive(sd) && lower.isFinite && !upper.isNaN && lower < upper
        case .uniform(let lower, let upper): return lower.isFinite && upper.isFinite && lower < upper
        case .poisson(let mean): return positive(mean)
        case .empirical: return true
        }
    }
}

/// Reads one distribution mapping's parameters: value-like ones in the distribution's unit, the rest as numbers.
private struct DistributionParameters {
    let fields: MappingReader
    let unit: ValueUnit

    /// A parameter measured in the distribution's unit (seconds or tokens).
    func value(_ key: String, _ bound: NumberBound) throws(ScenarioError) -> Double {
        try read(valueAt: fields.required(key, expecting: describe(bound)), bound)
    }

    func optionalValue(_ key: String, _ bound: NumberBound) throws(ScenarioError) -> Double? {
        guard let reader = fields[key] else { return nil }
        return try read(valueAt: reader, bound)
    }

    func read(valueAt reader: NodeReader, _ bound: NumberBound) throws(ScenarioError) -> Double {
        switch unit {
        case .tokens: return try reader.number(bound)
        case .duration:
            // Durations are never negative, so "finite" and "non-negative" are the same here.
            let time = try reader.duration(allowZero: !(bound == .positive))
            return time.seconds
        }
    }

    /// A dimensionless parameter (shape, cv, mu, sigma, weights).
    func number(_ key: String, _ bound: NumberBound) throws(ScenarioError) -> Double {
        try fields.required(key, expecting: bound.noun).number(bound)
    }

    func describe(_ bound: NumberBound) -> String {
        switch unit {
        case .tokens: return bound.noun
        case .duration: return bound == .positive ? "a duration > 0, like 1s" : "a duration, like 1s"
        }
    }

    /// Which of two parameterizations the mapping uses; an error if it mixes them.
    func choose(_ first: [String], or second: [String], for name: String) throws(ScenarioError) -> Bool {
        let usesFirst = first.contains { fields[$0] != nil }
        let usesSecond = second.contains { fields[$0] != nil }
        let forms = "`\(first.joined(separator: "` and `"))`, or `\(second.joined(separator: "` and `"))`"
        if usesFirst && usesSecond {
            let offending = second.compactMap { fields.keyReader($0) }.first ?? fields.reader
            throw offending.error("\(name) takes either \(forms), not a mix")
        }
        if !usesFirst && !usesSecond {
            throw fields.reader.error("missing parameters: \(name) takes \(forms)")
        }
        return usesFirst
    }

    func build(_ kind: DistributionKind) throws(ScenarioError) -> Distribution {
        switch kind {
        case .constant:
            return .constant(try value("value", unit == .tokens ? .nonNegative : .positive))
        case .exponential:
            return .exponential(mean: try value("mean", .positive))
        case .gamma:
            if try choose(["mean", "cv"], or: ["shape", "scale"], for: "gamma") {
                return .gamma(mean: try value("mean", .positive), cv: try number("cv", .positive))
            }
            return .gamma(shape: try number("shape", .positive), scale: try value("scale", .positive))
        case .lognormal:
            if try choose(["mean", "cv"], or: ["mu", "sigma"], for: "lognormal") {
                return .lognormal(mean: try value("mean", .positive), cv: try number("cv", .positive))
            }
            return .lognormal(mu: try number("mu", .finite), sigma: try number("sigma", .positive))
        case .weibull:
            if try choose(["mean", "cv"], or: ["shape", "scale"], for: "weibull") {
                let mean = try value("mean", .positive)
                let cvReader = try fields.required("cv", expecting: "a number > 0")
                let cv = try cvReader.number(.positive)
                guard WeibullLimits.cvRange.contains(cv) else {
                    throw cvReader.expected("a cv in 0.02...100 for weibull")
                }
                return .weibull(mean: mean, cv: cv)
            }
            let shape = try number("shape", .atLeast(WeibullLimits.minimumShape))
            return .weibull(scale: try value("scale", .positive), shape: shape)
        case .pareto:
            return .pareto(shape: try number("shape", .positive), scale: try value("scale", .positive))
        case .normal:
            return try truncatedNormal()
        case .uniform:
            let lower = try value("min", .nonNegative)
            let upperReader = try fields.required("max", expecting: describe(.positive))
            let upper = try read(valueAt: upperReader, .nonNegative)
            guard upper > lower else { throw upperReader.expected("max > min (\(text("min")))") }
            return .uniform(lower: lower, upper: upper)
        case .poisson:
            return .poisson(mean: try value("mean", .positive))
        case .empirical:
            return try empirical()
        }
    }

    /// `normal`: N(mean, sd²) conditioned on [min, max]; min defaults to 0 and max to +infinity.
    private func truncatedNormal() throws(ScenarioError) -> Distribution {
        let mean = try value("mean", unit == .tokens ? .finite : .nonNegative)
        let sdReader = try fields.required("sd", expecting: describe(.positive))
        let sd = try read(valueAt: sdReader, .positive)
        let lower = try optionalValue("min", .nonNegative) ?? 0
        let upper = try optionalValue("max", .nonNegative) ?? .infinity
        if let maxReader = fields["max"], upper <= lower {
            throw maxReader.expected("max > min (\(fields["min"] == nil ? "0" : text("min")))")
        }
        // Beyond 30 standard deviations the interval's probability underflows and sampling breaks down.
        if (lower - mean) / sd >= 30 {
            throw (fields["min"] ?? sdReader).error(
                "the interval [min, max] lies 30 or more standard deviations above the mean, so it has no probability; "
                    + "expected (min - mean) / sd < 30")
        }
        if (upper - mean) / sd <= -30 {
            throw (fields["max"] ?? sdReader).error(
                "the interval [min, max] lies 30 or more standard deviations below the mean, so it has no probability; "
                    + "expected (max - mean) / sd > -30")
        }
        return .truncatedNormal(mean: mean, sd: sd, lower: lower, upper: upper)
    }

    /// `empirical`: values with optional weights (equal by default), or the values of a data file.
    private func empirical() throws(ScenarioError) -> Distribution {
        if let fileReader = fields["file"] {
            return try empiricalFromFile(fileReader)
        }
        if let column = fields.keyReader("column") { throw column.error("`column` goes with `file`") }
        let valuesReader = try fields.required("values", expecting: "a non-empty list of values")
        var values: [Double] = []
        for item in try valuesReader.sequence(nonEmpty: true, of: unit == .tokens ? "numbers >= 0" : "durations") {
            values.append(try read(valueAt: item, .nonNegative))
        }
        if unit == .duration, !values.contains(where: { $0 > 0 }) {
            throw valuesReader.error("expected at least one duration > 0, found only zeros")
        }
        var weights: [Double]?
        if let weightsReader = fields["weights"] {
            let items = try weightsReader.sequence(nonEmpty: true, of: "numbers >= 0")
            guard items.count == values.count else {
                throw weightsReader.error(
                    "expected \(values.count) weights (one per value), found \(items.count)")
            }
            var list: [Double] = []
            for item in items { list.append(try item.number(.nonNegative)) }
            let total = list.reduce(0, +)
            guard total > 0, total.isFinite else {
                throw weightsReader.error("expected weights with a positive, finite sum, found a sum of \(total)")
            }
            weights = list
        }
        guard let table = EmpiricalTable(values: values, weights: weights) else {
            throw valuesReader.error("expected values and weights that make a distribution")
        }
        return .empirical(table)
    }

    /// `empirical` from `file` (and `column`): each row's value equally likely, so draws reproduce the file's
    /// values with their frequencies. Tokens only: a file's plain numbers carry no duration unit.
    private func empiricalFromFile(_ fileReader: NodeReader) throws(ScenarioError) -> Distribution {
        for key in ["values", "weights"] {
            if let other = fields.keyReader(key) {
                throw other.error("`dist: empirical` takes `values` or `file`, not both")
            }
        }
        guard unit == .tokens else {
            throw fileReader.error("`file` is for token counts only (a file's numbers carry no duration unit)")
        }
        let values = try fileReader.numbers(column: fields["column"]).sorted()
        // Equal values merged into one entry weighted by its count (the same law, a smaller table); sorted, so
        // the table does not depend on row order.
        var distinct: [Double] = []
        var counts: [Double] = []
        for value in values {
            if value == distinct.last {
                counts[counts.count - 1] += 1
            } else {
                distinct.append(value); counts.append(1)
            }
        }
        guard let table = EmpiricalTable(values: distinct, weights: counts) else {
            throw fileReader.error("expected values that make a distribution")
        }
        return .empirical(table)
    }

    /// The source text of a parameter, for errors that refer to it.
    private func text(_ key: String) -> String { fields[key]?.scalarText ?? "?" }
}
