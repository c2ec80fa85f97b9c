import EmbeddingGemma

/// Why a classifier or router could not be trained, loaded or used. Each case names the line,
/// field or value at fault; no message names a command-line flag.
public enum ClassifyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file could not be read or written.
    case file(path: String, reason: String)
    /// A line of an examples file is not a `{"text", "label"}` object.
    case invalidLine(line: Int, reason: String)
    /// An example's text is empty (or only white space).
    case emptyText(line: Int)
    /// An example's label is empty.
    case emptyLabel(line: Int)
    /// There are no examples at all.
    case noExamples
    /// Every example has the same label: there is nothing to tell apart.
    case oneClass(label: String)
    /// A label has fewer than two examples (`line`: where its only example is).
    case tooFewExamples(label: String, count: Int, line: Int)
    /// A training setting out of its range (`C` must be positive, ...).
    case invalidSetting(name: String, reason: String)
    /// A classifier or routes file of the wrong shape: `field` is the JSON path at fault.
    case invalidFile(path: String, field: String, reason: String)
    /// Two routes share a name (their positions in `routes`, from 0).
    case duplicateRoute(name: String, first: Int, second: Int)
    /// A handler was registered for a route the router does not have.
    case unknownRoute(name: String, available: [String])
    /// The classifier or routes' cache was made with another model.
    case modelMismatch(stored: ModelIdentity, given: ModelIdentity)
    /// A vector of the wrong width was given to a head of `expected` dimensions.
    case widthMismatch(expected: Int, got: Int)
    /// Texts were given to a classifier read without a model to embed them with.
    case noModel
    /// The model refused an input (`index`: its position in the batch, from 0), or a setting.
    case model(index: Int?, EmbeddingGemmaError)

    public var description: String {
        switch self {
        case let .file(path, reason):
            return "\(path): \(reason)"
        case let .invalidLine(line, reason):
            return "line \(line): \(reason)"
        case let .emptyText(line):
            return "line \(line): the text is empty"
        case let .emptyLabel(line):
            return "line \(line): the label is empty"
        case .noExamples:
            return "no examples: give at least two labels with two examples each"
        case let .oneClass(label):
            return "every example has the label '\(label)': a classifier needs at least two labels"
        case let .tooFewExamples(label, count, line):
            return "label '\(label)' has \(count) example\(count == 1 ? "" : "s") (line \(line)); each label needs at least two"
        case let .invalidSetting(name, reason):
            return "\(name): \(reason)"
        case let .invalidFile(path, field, reason):
            return "\(path): '\(field)' \(reason)"
        case let .duplicateRoute(name, first, second):
            return "routes[\(second)]: the route name '\(name)' is already used by routes[\(first)]"
        case let .unknownRoute(name, available):
            return "no route named '\(name)' (routes: \(available.joined(separator: ", ")))"
        case let .modelMismatch(stored, given):
            return "made with \(stored), not with \(given); use that model or train again"
        case let .widthMismatch(expected, got):
            return "a vector of \(got) dimensions given to a head of \(expected)"
        case .noModel:
            return "the classifier has no model attached to embed texts with"
        case let .model(index, error):
            return index.map { "input \($0 + 1): \(error)" } ?? error.description
        }
    }
}
