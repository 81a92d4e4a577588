import Foundation

/// Where a command writes: standard output and standard error, or buffers in tests.
public struct CommandIO: Sendable {
    /// Writes to standard output.
    public var out: @Sendable (String) -> Void
    /// Writes to standard error.
    public var err: @Sendable (String) -> Void
    /// Whether standard error is a terminal (progress lines are shown only then).
    public var errIsTerminal: Bool

    public init(
        out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
        errIsTerminal: Bool
    ) {
        self.out = out
        self.err = err
        self.errIsTerminal = errIsTerminal
    }

    /// The process's own standard output and error.
    public static var standard: CommandIO {
        CommandIO(
            out: { FileHandle.standardOutput.write(Data($0.utf8)) },
            err: { FileHandle.standardError.write(Data($0.utf8)) },
            errIsTerminal: isatty(STDERR_FILENO) == 1)
    }
}

/// Exit codes, after BSD sysexits where one fits.
public enum ExitStatus {
    public static let ok: Int32 = 0
    public static let internalError: Int32 = 1
    /// EX_DATAERR: the scenario or another input is invalid.
    public static let badInput: Int32 = 65
    /// EX_NOINPUT: the named file does not exist.
    public static let missingFile: Int32 = 66
}
