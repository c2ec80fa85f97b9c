/// How the router's threshold is chosen from the leave-one-out trade-off.
public enum CalibrationCriterion: Sendable, Hashable {
    /// The lowest threshold at which the routed examples are right at least this often
    /// (precision), so that as many queries as possible are routed without going below it; the
    /// F1 optimum when no threshold reaches it.
    case precision(Double)
    /// The threshold of the best F1 (precision against recall, both counted over all examples).
    case f1

    /// Precision 0.9: a wrong route (a wrong function call) is worse than none.
    public static let `default` = CalibrationCriterion.precision(0.9)
}

/// One threshold of the trade-off: examples held out one at a time, routed by the rest.
public struct CalibrationPoint: Sendable, Hashable {
    /// Scores at or above it take a route.
    public var threshold: Double
    /// Of the examples routed, the share routed to their own route.
    public var precision: Double
    /// Of all examples, the share routed to their own route.
    public var recall: Double
    /// Of all examples, the share routed at all.
    public var coverage: Double
}

/// The router's threshold from its own examples: each example is held out and routed by the
/// others (leave-one-out), and the threshold is chosen on the resulting precision/recall curve.
public struct RouteCalibration: Sendable, Hashable {
    /// The rule used.
    public var criterion: CalibrationCriterion
    /// The chosen point (its threshold is the router's).
    public var chosen: CalibrationPoint
    /// The whole curve, from the highest threshold (fewest routed) to the lowest (all routed).
    public var curve: [CalibrationPoint]
    /// Examples held out.
    public var examples: Int

    /// The threshold chosen.
    public var threshold: Double { chosen.threshold }
    /// Leave-one-out accuracy with no threshold (every example routed).
    public var accuracy: Double { curve.last?.precision ?? 0 }

    /// Calibrates from each example's held-out route and score.
    /// - Parameters:
    ///   - outcomes: per example, its held-out best score and whether that route was its own.
    static func calibrate(_ outcomes: [(score: Double, correct: Bool)], criterion: CalibrationCriterion) -> RouteCalibration {
        let sorted = outcomes.sorted { $0.score > $1.score }
        let n = Double(max(1, sorted.count))
        var curve: [CalibrationPoint] = []
        var correct = 0
        for (k, outcome) in sorted.enumerated() {
            if outcome.correct { correct += 1 }
            // Equal scores are routed together: a point only where the next score is lower.
            if k + 1 < sorted.count, sorted[k + 1].score == outcome.score { continue }
            curve.append(CalibrationPoint(threshold: outcome.score, precision: Double(correct) / Double(k + 1),
                                          recall: Double(correct) / n, coverage: Double(k + 1) / n))
        }
        func bestF1() -> CalibrationPoint? {
            curve.max { a, b in f1(a) < f1(b) }
        }
        var chosen: CalibrationPoint?
        switch criterion {
        case .precision(let target):
            chosen = curve.last { $0.precision >= target } ?? bestF1()
        case .f1:
            chosen = bestF1()
        }
        return RouteCalibration(criterion: criterion, chosen: chosen ?? CalibrationPoint(threshold: 0, precision: 0, recall: 0, coverage: 0),
                                curve: curve, examples: sorted.count)
    }

    /// The point of the curve whose coverage is closest to `coverage` (for printing the trade-off).
    public func point(coverage: Double) -> CalibrationPoint? {
        curve.min { abs($0.coverage - coverage) < abs($1.coverage - coverage) }
    }

    private static func f1(_ point: CalibrationPoint) -> Double {
        point.precision + point.recall > 0 ? 2 * point.precision * point.recall / (point.precision + point.recall) : 0
    }
}
