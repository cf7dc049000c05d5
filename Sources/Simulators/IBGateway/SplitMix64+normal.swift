import Essentials
import Foundation

/// The simulators' prices come from `SplitMix64` (Essentials): the same seed gives the same
/// prices on every machine, and every instrument owns an independent stream derived from
/// (seed, conId or `StableHash.fnv1a(symbol)`) so that one symbol's walk does not depend on
/// which other symbols happen to be subscribed.
extension SplitMix64 {
    /// Standard normal via Box-Muller (one value per call, two draws of ``unit()``;
    /// determinism beats speed here).
    mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
