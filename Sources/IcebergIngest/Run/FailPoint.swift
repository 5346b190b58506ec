import Foundation
import Synchronization

/// Named points where a test can make the process stop dead, as a crash would: with
/// `ICEBERG_INGEST_FAIL_POINT` set to one of ``names``, reaching that point calls the handler the
/// executable installed (``install(_:)``; `iceberg-ingest` exits with ``exitCode``). Library code never
/// ends the process itself: with no handler installed, a fail point does nothing. Used by the crash tests to
/// check that a run after any crash neither loses nor repeats a row. `name@n` stops at the `n`th time the point
/// is reached (the second table's commit of a routed run, say).
///
/// A fault point (``faults``) fails an operation with an error instead, as a full disk or a failing device
/// would, and the run goes on to handle it: `close-data-file@2` makes the second data file to close fail.
/// It too is armed only in a process whose executable installed a handler.
package enum FailPoint {
    /// The points, in the order a commit passes them.
    package static let names = ["after-checkpoint", "before-upload", "after-upload", "after-manifest", "after-swap"]
    /// The fault points: `close-data-file`, closing a spooled data file (its last row group and footer).
    package static let faults = ["close-data-file"]
    package static let environmentVariable = "ICEBERG_INGEST_FAIL_POINT"
    /// The exit code `iceberg-ingest` uses when a fail point stops it.
    package static let exitCode: Int32 = 86
    private static let armed: (name: String, nth: Int)? = ProcessInfo.processInfo.environment[environmentVariable].map { value in
        let parts = value.split(separator: "@", maxSplits: 1)
        return (String(parts.first ?? ""), parts.count == 2 ? Int(parts[1]) ?? 1 : 1)
    }
    private static let reached = Mutex(0)
    private static let handler = Mutex<(@Sendable (String) -> Void)?>(nil)

    /// Installs what reaching the armed fail point does (an executable's choice: typically, exit at once).
    package static func install(_ onReached: @escaping @Sendable (String) -> Void) {
        handler.withLock { $0 = onReached }
    }

    /// The error a fault point throws.
    package struct InjectedFault: Error, CustomStringConvertible {
        package let name: String
        package var description: String { "injected fault at '\(name)' (\(FailPoint.environmentVariable))" }
    }

    /// Throws ``InjectedFault`` when `name` is the armed fault point, reached for the armed time.
    package static func fault(_ name: String) throws {
        if due(name) != nil { throw InjectedFault(name: name) }
    }

    /// Runs the installed handler when `name` is the armed fail point, reached for the armed time.
    package static func check(_ name: String) {
        due(name)?(name)
    }

    /// The installed handler when `name` is the armed point and this is the armed time it is reached (each
    /// call for the armed point counts); nil otherwise, and always when no handler is installed.
    private static func due(_ name: String) -> (@Sendable (String) -> Void)? {
        guard let armed, armed.name == name, let onReached = handler.withLock({ $0 }) else { return nil }
        let isDue = reached.withLock { count in
            count += 1
            return count == armed.nth
        }
        return isDue ? onReached : nil
    }
}
