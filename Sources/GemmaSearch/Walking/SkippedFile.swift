/// A file the index left out, and why; listed in the summary of an update.
public struct SkippedFile: Sendable, Hashable {
    /// Why a file was left out.
    public enum Reason: Error, Sendable, Hashable, CustomStringConvertible {
        /// It could not be read (permissions, I/O error); the system's message.
        case unreadable(String)
        /// Larger than the size cap.
        case tooLarge(bytes: Int64, limit: Int64)
        /// Binary content (a NUL byte, or a known binary file type).
        case binary
        /// No text in it (empty, only white space, or a PDF without a text layer).
        case empty
        /// A PDF, and `pdftotext` (Debian: poppler-utils) is not installed.
        case pdfToolMissing
        /// `pdftotext` failed on it; its message.
        case pdfFailed(String)
        /// It disappeared between listing and reading.
        case vanished
        /// A symbolic link to a folder already walked (a loop or a second way in).
        case symlinkLoop
        /// The model could not embed its text; the model's message.
        case embeddingFailed(String)

        public var description: String {
            switch self {
            case .unreadable(let message): return "unreadable (\(message))"
            case .tooLarge(let bytes, let limit): return "too large (\(bytes) bytes, limit \(limit))"
            case .binary: return "binary"
            case .empty: return "no text"
            case .pdfToolMissing: return "PDF, but pdftotext is not installed (apt-get install poppler-utils)"
            case .pdfFailed(let message): return "pdftotext failed (\(message))"
            case .vanished: return "vanished during the walk"
            case .symlinkLoop: return "symbolic link to a folder already walked"
            case .embeddingFailed(let message): return "could not be embedded (\(message))"
            }
        }

        /// A short name for summaries (`binary`, `too large`, ...).
        /// Whether an unchanged file with this reason is left out again without reading it
        /// (reasons that depend on the file alone, not on the machine or a passing error).
        var isLasting: Bool {
            switch self {
            case .binary, .empty, .pdfFailed, .embeddingFailed: return true
            default: return false
            }
        }

        public var category: String {
            switch self {
            case .unreadable: return "unreadable"
            case .tooLarge: return "too large"
            case .binary: return "binary"
            case .empty: return "empty"
            case .pdfToolMissing: return "PDF without pdftotext"
            case .pdfFailed: return "PDF failed"
            case .vanished: return "vanished"
            case .symlinkLoop: return "symlink loop"
            case .embeddingFailed: return "not embeddable"
            }
        }
    }

    /// The file's absolute path.
    public var path: String
    /// Why it was left out.
    public var reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }
}
