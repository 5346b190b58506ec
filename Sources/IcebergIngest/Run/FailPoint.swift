import Foundation
import Synchronization

/// Named points where a test can make the process stop dead, as a crash would: with
/// `ICEBERG_INGEST_FAIL_POINT` set to one of ``names``, reaching that point calls the handler the
/// executable installed (``install(_:)``; `iceberg-ingest` exits with ``exitCode``). Library code never
/// ends the process itself: with no handler installed, a fail point does nothing. Used by the crash tests to
/// check that a run after any crash neither loses nor repeats a row.
package enum FailPoint {
    /// The points, in the order a commit passes them.
    package static let names = ["after-checkpoint", "before-upload", "after-upload", "after-manifest", "after-swap"]
    package static let environmentVariable = "ICEBERG_INGEST_FAIL_POINT"
    /// The exit code `iceberg-ingest` uses when a fail point stops it.
    package static let exitCode: Int32 = 86
    private static let armed = ProcessInfo.processInfo.environment[environmentVariable]
    private static let handler = Mutex<(@Sendable (String) -> Void)?>(nil)

    /// Installs what reaching the armed fail point does (an executable's choice: typically, exit at once).
    package static func install(_ onReached: @escaping @Sendable (String) -> Void) {
        handler.withLock { $0 = onReached }
    }

    package static func check(_ name: String) {
        guard let armed, armed == name, let onReached = handler.withLock({ $0 }) else { return }
        onReached(name)
    }
}
