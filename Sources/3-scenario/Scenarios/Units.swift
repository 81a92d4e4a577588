import SimKernel

/// The scalar grammars of the format: integers, plain numbers, durations, rates and bandwidths.
///
/// These work on the scalar's text, never on Yams' resolved types, so that what is accepted is exactly what the
/// documentation says (YAML 1.1 would also take `0x1F`, `1_000` and `1:30`) and durations convert exactly.
enum Units {
    /// Duration units and their length in nanoseconds. Two-letter suffixes come first so `ms` is not read as `m`.
    static let durationUnits: [(suffix: String, nanoseconds: UInt64)] = [
        ("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ]

    /// Rate units and their length in seconds.
    static let rateUnits: [(suffix: String, seconds: Double)] = [("s", 1), ("m", 60), ("h", 3600)]

    /// The largest rate accepted, per second: faster arrivals would have gaps under a nanosecond, the clock's tick.
    static let maximumRatePerSecond = 1e9

    /// Bandwidth units and their size in bits per second. Longer suffixes come first so `Gbps` is not read as `bps`.
    static let bandwidthUnits: [(suffix: String, bitsPerSecond: Double)] = [
        ("Tbps", 1e12), ("Gbps", 1e9), ("Mbps", 1e6), ("Kbps", 1e3), ("kbps", 1e3), ("bps", 1),
    ]

    enum IntegerOutcome: Equatable {
        case value(negative: Bool, magnitude: UInt64)
        case tooLarge(negative: Bool)
        case notAnInteger
    }

    enum NumberOutcome: Equatable {
        case value(Double)
        /// `.nan`, `.inf`, or a literal too large for a Double (`1e400`).
        case notFinite
        case notANumber
    }

    enum DurationOutcome: Equatable {
        case value(SimTime)
        /// A number without a unit (other than `0`).
        case missingUnit
        case negative
        case tooLarge
        case malformed
    }

    enum RateOutcome: Equatable {
        case perSecond(Double)
        case missingUnit
        case negative
        case tooLarge
        case malformed
    }

    enum BandwidthOutcome: Equatable {
        case bitsPerSecond(Double)
        case missingUnit
        case negative
        case notFinite
        case malformed
    }

    /// `[-+]?[0-9]+`, exactly, with overflow detected.
    static func integer(_ text: String) -> IntegerOutcome {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard let magnitude = digitsValue(digits) else { return .notAnInteger }
        guard let value = magnitude else { return .tooLarge(negative: negative) }
        return .value(negative: negative, magnitude: value)
    }

    /// A decimal number: `[-+]?(D+(.D*)?|.D+)([eE][-+]?D+)?`, or YAML's `.nan`/`.inf`, which are rejected as not finite.
    static func number(_ text: String) -> NumberOutcome {
        let lowered = text.lowercased()
        if [".nan", ".inf", "+.inf", "-.inf"].contains(lowered) { return .notFinite }
        guard isDecimalLiteral(Substring(text)), let value = Double(text) else { return .notANumber }
        return value.isFinite ? .value(value) : .notFinite
    }

    /// `D+(.D+)?UNIT` with a unit from ``durationUnits``, or the bare number `0`, converted exactly to nanoseconds
    /// (rounded to the nearest nanosecond beyond that; decimal digits after the 19th are ignored).
    static func duration(_ text: String) -> DurationOutcome {
        if text == "0" { return .value(.zero) }
        if text.hasPrefix("-") {
            switch duration(String(text.dropFirst())) {
            case .value, .tooLarge: return .negative
            case .missingUnit: return .missingUnit
            case .negative, .malformed: return .malformed
            }
        }
        guard let unit = durationUnits.first(where: { text.hasSuffix($0.suffix) }) else {
            return isDecimalLiteral(Substring(text)) ? .missingUnit : .malformed
        }
        let number = text.dropLast(unit.suffix.count)
        guard let (integerPart, fractionPart) = splitDecimal(number) else {
            // `1e3s` or `5 parsecs`: a number but not a plain decimal, or no number at all.
            return .malformed
        }
        guard let whole = digitsValue(integerPart), let whole else { return .tooLarge }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: unit.nanoseconds)
        guard !overflow else { return .tooLarge }
        let (total, overflowSum) = scaled.addingReportingOverflow(
            fractionNanoseconds(fractionPart, unit: unit.nanoseconds))
        guard !overflowSum, total <= UInt64(Int64.max) else { return .tooLarge }
        return .value(SimTime(nanoseconds: Int64(total)))
    }

    /// `N/UNIT` (N a plain decimal, UNIT `s`, `m` or `h`), as requests per second.
    static func rate(_ text: String) -> RateOutcome {
        if text.hasPrefix("-") {
            return rate(String(text.dropFirst())) == .malformed ? .malformed : .negative
        }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return isDecimalLiteral(Substring(text)) ? .missingUnit : .malformed }
        guard let unit = rateUnits.first(where: { $0.suffix == parts[1] }), splitDecimal(parts[0]) != nil,
            let count = Double(String(parts[0]))
        else { return .malformed }
        let perSecond = count / unit.seconds
        guard perSecond.isFinite, perSecond <= maximumRatePerSecond else { return .tooLarge }
        return .perSecond(perSecond)
    }

    /// A plain decimal (exponent allowed) and a unit from ``bandwidthUnits``, with no space: `10Gbps`, `400Mbps`,
    /// `1e9bps`; as bits per second.
    static func bandwidth(_ text: String) -> BandwidthOutcome {
        guard let unit = bandwidthUnits.first(where: { text.hasSuffix($0.suffix) }) else {
            return isDecimalLiteral(Substring(text)) ? .missingUnit : .malformed
        }
        let number = text.dropLast(unit.suffix.count)
        guard isDecimalLiteral(number), let value = Double(String(number)) else { return .malformed }
        if number.hasPrefix("-") { return .negative }
        let bits = value * unit.bitsPerSecond
        return bits.isFinite ? .bitsPerSecond(bits) : .notFinite
    }

    // MARK: - Pieces

    /// The value of a run of ASCII digits: nil if not all digits (or empty), `.some(nil)` if it overflows UInt64.
    private static func digitsValue(_ digits: Substring) -> UInt64?? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        var overflowed = false
        for character in digits.utf8 {
            guard character >= 0x30, character <= 0x39 else { return nil }
            if overflowed { continue }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(character - 0x30))
            if o1 || o2 { overflowed = true } else { value = sum }
        }
        return overflowed ? .some(nil) : .some(value)
    }

    /// Splits `D+(.D+)?` into its integer and fraction digits; nil if it is not of that form.
    private static func splitDecimal(_ text: Substring) -> (Substring, Substring)? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let integerPart = parts.first, isDigits(integerPart) else { return nil }
        if parts.count == 1 { return (integerPart, "") }
        guard isDigits(parts[1]) else { return nil }
        return (integerPart, parts[1])
    }

    /// `0.DIGITS` of `unit` nanoseconds, rounded half up, computed in 128-bit integer arithmetic.
    private static func fractionNanoseconds(_ digits: Substring, unit: UInt64) -> UInt64 {
        // 10^19 is the largest power of ten below 2^64; later digits move the result by under 10^-6 ns.
        let kept = digits.prefix(19)
        guard !kept.isEmpty else { return 0 }
        var numerator: UInt64 = 0
        var denominator: UInt64 = 1
        for character in kept.utf8 {
            numerator = numerator * 10 + UInt64(character - 0x30)
            denominator *= 10
        }
        // numerator < denominator, so the quotient is below `unit` and fits: dividingFullWidth cannot trap.
        let product = numerator.multipliedFullWidth(by: unit)
        let (quotient, remainder) = denominator.dividingFullWidth(product)
        return remainder >= denominator - remainder ? quotient + 1 : quotient
    }

    private static func isDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// `[-+]?(D+(.D*)?|.D+)([eE][-+]?D+)?`
    static func isDecimalLiteral(_ text: Substring) -> Bool {
        var rest = text
        if let sign = rest.first, sign == "-" || sign == "+" { rest = rest.dropFirst() }
        var mantissa = rest
        var exponent: Substring?
        if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = rest[..<e]
            var digits = rest[rest.index(after: e)...]
            if let sign = digits.first, sign == "-" || sign == "+" { digits = digits.dropFirst() }
            exponent = digits
        }
        if let exponent, !isDigits(exponent) { return false }
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return isDigits(parts[0])
        case 2:
            let (whole, fraction) = (parts[0], parts[1])
            return (isDigits(whole) && (fraction.isEmpty || isDigits(fraction)))
                || (whole.isEmpty && isDigits(fraction))
        default: return false
        }
    }
}

extension ScenarioLoader {
    /// A duration written as in scenario files (`250ms`, `3m`, `0`), for command-line options; nil otherwise.
    public static func duration(_ text: String) -> SimTime? {
        if case .value(let time) = Units.duration(text) { return time }
        return nil
    }
}
