import GemmaSearch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A live progress line on standard error when it is a terminal: a bar, files, chunks,
/// tokens per second and the time left, redrawn at most a few times a second.
final class ProgressBar {
    private let enabled: Bool
    private var lastDraw: Double = -1
    private var drawn = false

    init() {
        enabled = isatty(2) == 1
    }

    /// Redraws the line for `progress` (forced on the last update).
    func update(_ progress: UpdateProgress, final: Bool = false) {
        let fraction = progress.bytesToProcess > 0 ? Double(progress.bytesProcessed) / Double(progress.bytesToProcess) : 1
        var text = "\(progress.filesProcessed)/\(progress.filesToProcess) files"
        text += "  \(progress.chunksEmbedded) chunks  \(Int(progress.tokensPerSecond)) tokens/s"
        if let remaining = progress.secondsRemaining, !final { text += "  ETA \(Self.duration(remaining))" }
        update(fraction: fraction, text: text, elapsed: progress.elapsed, final: final)
    }

    /// Redraws the line for `done` of `total` texts embedded after `elapsed` seconds (forced on the last).
    func update(done: Int, total: Int, elapsed: Double, what: String) {
        let final = done >= total
        var text = "\(done)/\(total) \(what)"
        if elapsed > 0 { text += "  \(Int(Double(done) / elapsed))/s" }
        if done > 0, !final { text += "  ETA \(Self.duration(elapsed * Double(total - done) / Double(done)))" }
        update(fraction: total > 0 ? Double(done) / Double(total) : 1, text: text, elapsed: elapsed, final: final)
    }

    /// Redraws the line with a bar at `fraction` followed by `text` (forced when `final`).
    func update(fraction: Double, text: String, elapsed: Double, final: Bool = false) {
        guard enabled, final || elapsed - lastDraw >= 0.2 || lastDraw < 0 else { return }
        lastDraw = elapsed
        let width = 24
        let filled = min(width, max(0, Int(fraction * Double(width))))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        OutputWriter.writeAll(Array("\r\u{1B}[2K\(bar) \(Int(fraction * 100))%  \(text)".utf8), to: 2)
        drawn = true
    }

    /// Ends the live line so that what follows starts on a new line.
    func finish() {
        guard enabled, drawn else { return }
        OutputWriter.writeAll(Array("\n".utf8), to: 2)
    }

    /// `1h02m`, `3m05s` or `42s`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return "\(total / 3600)h" + String(format2(total % 3600 / 60)) + "m" }
        if total >= 60 { return "\(total / 60)m" + format2(total % 60) + "s" }
        return "\(total)s"
    }

    private static func format2(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
