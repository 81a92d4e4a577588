import CGSL
import Fleet
import Foundation
import TestSupport
import Testing

/// Rate schedules: the rate function, its exact inverse cumulative, and Poisson arrivals that follow it.
@Suite struct RateScheduleTests {
    static let spike = RateSchedule.spike(
        base: 40, start: .seconds(180), rampUp: .seconds(30), peak: 3, hold: .seconds(120), decay: .seconds(60))
    static let steps = RateSchedule.steps(
        base: 5,
        [
            (at: .seconds(60), ratePerSecond: 20), (at: .seconds(120), ratePerSecond: 0),
            (at: .seconds(200), ratePerSecond: 60),
        ])
    static let ramp = RateSchedule.ramp(base: 30, from: 10, to: 60, start: .seconds(30), end: .seconds(600))
    static let falling = RateSchedule.ramp(base: 50, from: 50, to: 0, start: .zero, end: .seconds(300))
    static let diurnal = RateSchedule.diurnal(
        base: 20, period: .seconds(3_600), amplitude: 0.5, peakAt: .seconds(2_520))
    static let fullSwing = RateSchedule.diurnal(base: 20, period: .seconds(600), amplitude: 1, peakAt: .zero)

    @Test func theRateIsWhatTheFormsSay() {
        let spike = Self.spike
        #expect(spike.rate(at: .seconds(100)) == 40)
        #expect(spike.rate(at: .seconds(195)) == 80)  // halfway up the ramp
        #expect(spike.rate(at: .seconds(210)) == 120)
        #expect(spike.rate(at: .seconds(329)) == 120)
        #expect(abs(spike.rate(at: .seconds(360)) - 80) < 1e-9)  // halfway down
        #expect(spike.rate(at: .seconds(390)) == 40)
        #expect(Self.steps.rate(at: .seconds(59)) == 5 && Self.steps.rate(at: .seconds(60)) == 20)
        #expect(Self.steps.rate(at: .seconds(150)) == 0 && Self.steps.rate(at: .seconds(1_000)) == 60)
        #expect(Self.ramp.rate(at: .seconds(10)) == 30 && Self.ramp.rate(at: .seconds(30)) == 10)
        #expect(abs(Self.ramp.rate(at: .seconds(315)) - 35) < 1e-9 && Self.ramp.rate(at: .seconds(700)) == 60)
        #expect(abs(Self.diurnal.rate(at: .seconds(2_520)) - 30) < 1e-12)
        #expect(abs(Self.diurnal.rate(at: .seconds(2_520 + 1_800)) - 10) < 1e-12)
        #expect(Self.falling.totalCumulative == 7_500 && Self.fullSwing.totalCumulative == .infinity)
    }

    /// Λ⁻¹(Λ(t)) = t to 1 ns wherever the rate is positive (to the conditioning limit 4 ulp(Λ)/rate where it all
    /// but vanishes), for 2,000 times per schedule over 3 hours; inside a zero-rate stretch Λ⁻¹ gives the
    /// stretch's start (the infimum).
    @Test func theInverseCumulativeInvertsToANanosecond() {
        let schedules = [Self.spike, Self.steps, Self.ramp, Self.diurnal, Self.falling, Self.fullSwing]
        let draws = RandomStreams(runSeed: 3).stream("test/times")
        for schedule in schedules {
            for _ in 0..<2_000 {
                let t = draws.uniform() * 10_800
                let u = schedule.cumulative(atSeconds: t)
                let back = schedule.inverseCumulative(u)
                let rate = schedule.rate(atSeconds: t)
                if rate > 1e-3 {
                    // Where the rate nearly vanishes (a full swing's trough) Λ itself is known only to its last
                    // bits: Λ⁻¹ cannot do better than 4 ulp(Λ) / rate, which exceeds 1 ns below about 0.1/s here.
                    let tolerance = Swift.max(1e-9, 4 * u.ulp / rate)
                    #expect(back.map { abs($0 - t) <= tolerance } == true, "\(schedule) at \(t): \(back ?? -1)")
                } else if schedule == Self.steps {
                    #expect(back == 120, "\(t)")
                } else if schedule == Self.falling {
                    #expect(back == nil || back == 300, "\(t)")
                }
            }
        }
        #expect(Self.falling.inverseCumulative(7_500) == nil && Self.falling.inverseCumulative(7_499.99)! < 300)
        // Around a trough of the full swing the rate vanishes: Λ is flat to second order, yet Λ⁻¹ stays monotone.
        var previous = 0.0
        for u in stride(from: 0.0, through: 24_000, by: 0.5) {
            let t = Self.fullSwing.inverseCumulative(u)!
            #expect(t >= previous)
            previous = t
        }
    }

    /// Poisson arrivals against each schedule, counted in 10 s windows: Pearson's chi-square of the window
    /// counts against ∫ rate over each window (a sum of independent Poisson cells, so χ² with as many degrees
    /// of freedom as windows), p > 0.001 for each of three seeds; and the total within 4 √(∫ rate).
    @Test(arguments: [1, 2, 3] as [UInt64])
    func poissonArrivalsFollowTheSchedule(seed: UInt64) {
        let horizon = 1_200.0
        for schedule in [Self.spike, Self.steps, Self.ramp, Self.diurnal, Self.falling] {
            var spec = WorkloadSpec(name: "s", ratePerSecond: 1, pool: "p")
            spec.schedule = schedule
            let times = arrivalTimes(spec, seed: seed, horizon: .seconds(horizon)).times
            let windows = Int(horizon / 10)
            var observed = Array(repeating: 0.0, count: windows)
            for t in times { observed[Int(t / 10)] += 1 }
            let expected = (0..<windows).map {
                schedule.cumulative(atSeconds: Double($0 + 1) * 10) - schedule.cumulative(atSeconds: Double($0) * 10)
            }
            var statistic = 0.0, degrees = 0
            for (o, e) in zip(observed, expected) {
                if e == 0 {
                    #expect(o == 0, "arrivals where the rate is zero")
                } else {
                    statistic += (o - e) * (o - e) / e
                    degrees += 1
                }
            }
            let p = gsl_cdf_chisq_Q(statistic, Double(degrees))
            #expect(p > 0.001, "\(schedule): chi-square \(statistic) on \(degrees) windows")
            let total = schedule.cumulative(atSeconds: horizon)
            #expect(abs(Double(times.count) - total) <= 4 * total.squareRoot(), "\(times.count) vs \(total)")
        }
    }

    /// A zero-rate stretch has no arrivals and arrivals resume after it, also for a modulated process; a rate
    /// that falls to zero for good ends the arrivals (a gap of `.max`), with no endless loop.
    @Test func zeroRateStretchesPauseArrivals() {
        for arrival in [ArrivalProcess.poisson, .gamma(cv: 2), .onOff(onSeconds: 2, offSeconds: 3)] {
            var spec = WorkloadSpec(name: "z", ratePerSecond: 5, arrival: arrival, pool: "p")
            spec.schedule = Self.steps
            let times = arrivalTimes(spec, seed: 4, horizon: .seconds(400)).times
            #expect(!times.contains { $0 >= 120 && $0 < 200 }, "\(arrival)")
            #expect(times.filter { $0 >= 200 }.count > 5_000, "\(arrival)")
            spec.schedule = Self.falling
            let generator = WorkloadGenerator(spec: spec, streams: RandomStreams(runSeed: 4))
            var now = SimTime.zero, count = 0
            while true {
                let gap = generator.nextGap(at: now)
                if gap == .max { break }
                now = now + gap
                count += 1
            }
            #expect(now <= .seconds(300) && count > 5_000 && count < 10_000, "\(arrival): \(count) until \(now)")
        }
    }

    /// On/off under a schedule: the intensity is the schedule times the state's multiplier, so the expected count
    /// in each half of a ramp is its ∫ rate. Tolerance: 4 standard errors from the spread over 20 seeds.
    @Test func modulationMultipliesTheSchedule() {
        var spec = WorkloadSpec(name: "m", ratePerSecond: 10, arrival: .onOff(onSeconds: 1, offSeconds: 1), pool: "p")
        spec.schedule = .ramp(base: 10, from: 10, to: 50, start: .zero, end: .seconds(2_000))
        var early: [Double] = [], late: [Double] = []
        for seed: UInt64 in 1...20 {
            let times = arrivalTimes(spec, seed: seed, horizon: .seconds(2_000)).times
            early.append(Double(times.filter { $0 < 1_000 }.count))
            late.append(Double(times.filter { $0 >= 1_000 }.count))
        }
        let (a, b) = (meanAndStandardError(early), meanAndStandardError(late))
        #expect(abs(a.mean - 20_000) <= 4 * a.standardError, "\(a)")
        #expect(abs(b.mean - 40_000) <= 4 * b.standardError, "\(b)")
    }
}
