@testable import GemmaClassify
import Testing

/// The threshold chosen from leave-one-out outcomes.
@Suite("Route calibration")
struct CalibrationTests {
    /// Scores 0.9 … 0.1; the two lowest are wrong.
    static let outcomes: [(score: Double, correct: Bool)] = [
        (0.9, true), (0.8, true), (0.7, true), (0.6, false), (0.5, true), (0.4, true), (0.3, true), (0.2, false), (0.1, false),
    ]

    @Test("the curve: precision, recall and coverage at every threshold, highest first")
    func curve() {
        let calibration = RouteCalibration.calibrate(Self.outcomes, criterion: .f1)
        #expect(calibration.curve.count == 9)
        #expect(calibration.curve[0] == CalibrationPoint(threshold: 0.9, precision: 1, recall: 1.0 / 9, coverage: 1.0 / 9))
        let atHalf = calibration.curve[4]
        #expect(atHalf.threshold == 0.5 && atHalf.precision == 4.0 / 5 && atHalf.recall == 4.0 / 9 && atHalf.coverage == 5.0 / 9)
        #expect(calibration.accuracy == 6.0 / 9)
        // F1 is best at 0.3: precision 6/7, recall 6/9.
        #expect(calibration.threshold == 0.3)
    }

    @Test("a precision target takes the lowest threshold that reaches it")
    func precisionTarget() {
        #expect(RouteCalibration.calibrate(Self.outcomes, criterion: .precision(0.85)).threshold == 0.3)
        #expect(RouteCalibration.calibrate(Self.outcomes, criterion: .precision(1)).threshold == 0.7)
        // Unreachable: falls back to the best F1.
        let none = RouteCalibration.calibrate([(0.5, false), (0.4, true)], criterion: .precision(0.99))
        #expect(none.threshold == 0.4)
    }

    @Test("equal scores are accepted or refused together")
    func ties() {
        let calibration = RouteCalibration.calibrate([(0.8, true), (0.5, false), (0.5, true), (0.2, true)], criterion: .precision(1))
        #expect(calibration.curve.map(\.threshold) == [0.8, 0.5, 0.2])
        #expect(calibration.threshold == 0.8)
    }
}
