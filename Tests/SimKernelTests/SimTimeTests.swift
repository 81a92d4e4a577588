import SimKernel
import Testing

@Suite("SimTime")
struct SimTimeTests {
    @Test("named constructors")
    func constructors() {
        #expect(SimTime.nanoseconds(7).nanoseconds == 7)
        #expect(SimTime.microseconds(3).nanoseconds == 3_000)
        #expect(SimTime.milliseconds(3).nanoseconds == 3_000_000)
        #expect(SimTime.seconds(Int64(3)).nanoseconds == 3_000_000_000)
        #expect(SimTime.seconds(Int64(-2)).nanoseconds == -2_000_000_000)
        #expect(SimTime.zero.nanoseconds == 0)
        #expect(SimTime.max.nanoseconds == .max)
        #expect(SimTime(nanoseconds: 12) == .nanoseconds(12))
    }

    @Test(
        "seconds(Double) rounds to the nearest nanosecond, halves away from zero",
        arguments: [
            (1.5, Int64(1_500_000_000)),
            (0.1, 100_000_000),
            (1.4e-9, 1),
            (1.6e-9, 2),
            (2.5e-9, 3),
            (-1.5e-9, -2),
            (-2.5e-9, -3),
            (4e-10, 0),
            (0, 0),
            (123.456789012, 123_456_789_012),
            (9.1e9, 9_100_000_000_000_000_000),
        ])
    func secondsRounding(seconds: Double, nanoseconds: Int64) {
        #expect(SimTime.seconds(seconds).nanoseconds == nanoseconds)
    }

    @Test("seconds(Double) saturates instead of trapping")
    func secondsSaturation() {
        #expect(SimTime.seconds(1e10) == .max)
        #expect(SimTime.seconds(9.3e9) == .max)
        #expect(SimTime.seconds(Double.infinity) == .max)
        #expect(SimTime.seconds(Double.greatestFiniteMagnitude) == .max)
        #expect(SimTime.seconds(-1e10).nanoseconds == .min)
        #expect(SimTime.seconds(-Double.infinity).nanoseconds == .min)
    }

    @Test("seconds and milliseconds views")
    func views() {
        #expect(SimTime.milliseconds(1_500).seconds == 1.5)
        #expect(SimTime.microseconds(2_500).milliseconds == 2.5)
        #expect(SimTime.seconds(0.25).seconds == 0.25)
    }

    @Test("+ adds, and saturates at .max on overflow")
    func additionSaturates() {
        #expect(SimTime.seconds(Int64(1)) + .milliseconds(500) == .milliseconds(1_500))
        #expect(SimTime.max + .nanoseconds(1) == .max)
        #expect(SimTime.max + .max == .max)
        #expect(SimTime(nanoseconds: .max - 5) + .nanoseconds(10) == .max)
        #expect(SimTime(nanoseconds: .max - 5) + .nanoseconds(5) == .max)
        #expect(SimTime(nanoseconds: .max - 5) + .nanoseconds(4) == SimTime(nanoseconds: .max - 1))
        var t = SimTime.seconds(Int64(2))
        t += .seconds(Int64(3))
        #expect(t == .seconds(Int64(5)))
        t += .max
        #expect(t == .max)
        #expect(SimTime.seconds(Int64(5)) - .seconds(Int64(2)) == .seconds(Int64(3)))
    }

    @Test("ordering is by nanoseconds")
    func ordering() {
        #expect(SimTime.nanoseconds(1) < .nanoseconds(2))
        #expect(SimTime.nanoseconds(-1) < .zero)
        #expect(SimTime.seconds(Int64(1)) > .milliseconds(999))
        #expect(!(SimTime.max < .max))
        #expect(
            [SimTime.seconds(Int64(3)), .zero, .nanoseconds(5)].sorted() == [
                .zero, .nanoseconds(5), .seconds(Int64(3)),
            ])
    }

    @Test(
        "description uses the largest exact unit",
        arguments: [
            (SimTime.zero, "0s"),
            (.seconds(Int64(2)), "2s"),
            (.milliseconds(1_500), "1500ms"),
            (.microseconds(1_500), "1500us"),
            (.nanoseconds(1_500), "1500ns"),
            (.nanoseconds(7), "7ns"),
            (.milliseconds(-250), "-250ms"),
            (.max, "never"),
        ])
    func description(time: SimTime, text: String) {
        #expect(time.description == text)
        #expect("\(time)" == text)
    }
}
