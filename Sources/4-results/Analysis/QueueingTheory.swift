import Foundation

/// Closed-form results the station model is validated against.
public enum QueueingTheory {
    /// M/M/c: the Erlang-C probability of waiting and the mean wait in queue.
    ///
    /// - Parameters: `servers` c, `arrivalRate` λ and per-server `serviceRate` μ, with λ < cμ.
    public static func erlangC(
        servers c: Int, arrivalRate lambda: Double, serviceRate mu: Double
    )
        -> (probabilityOfWaiting: Double, meanWait: Double)
    {
        let a = lambda / mu
        let rho = a / Double(c)
        precondition(rho < 1, "unstable: load \(rho)")
        // Sum a^k/k! iteratively to stay finite for large c.
        var term = 1.0, sum = 0.0
        for k in 0..<c {
            sum += term
            term *= a / Double(k + 1)
        }
        let top = term / (1 - rho)
        let pWait = top / (sum + top)
        return (pWait, pWait / (Double(c) * mu - lambda))
    }

    /// M/G/1: the Pollaczek–Khinchine mean wait in queue, λE[S²] / (2(1 − ρ)).
    public static func pollaczekKhinchine(
        arrivalRate lambda: Double, serviceMean: Double, serviceVariance: Double
    )
        -> Double
    {
        let rho = lambda * serviceMean
        precondition(rho < 1, "unstable: load \(rho)")
        let secondMoment = serviceVariance + serviceMean * serviceMean
        return lambda * secondMoment / (2 * (1 - rho))
    }
}
