import ArgumentParser
import Foundation
import IcebergIngest

extension IcebergIngestCommand {
    /// Shows the schema change that drifted input calls for, and with --apply commits it together with the
    /// reprocessing of the objects whose fields were dropped or rescued.
    struct Evolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evolve the table's schema to what the input carried, and reprocess what was dropped or rescued.",
            discussion: """
                Without --apply, prints the plan and changes nothing: the schema changes (new columns typed from \
                the values seen, widenings), the objects whose fields were dropped (drift policy 'ignore') or kept \
                in _rescued_data ('rescue'), every object to read again (those sharing data files with them, followed \
                through compactions), and \
                the data files and rows replaced. With --apply, one overwrite commit adds the new schema (the old \
                ones stay in the table's history), the rewritten data files, and removes the old files; the \
                checkpoint records which source objects produced which data files, so no row is lost or duplicated.
                """)

        @OptionGroup var job: JobOptions
        @Flag(name: .long, help: "Commit the schema change and the reprocessing (default: only show the plan).")
        var apply = false
        @Flag(name: .long, help: "Print one JSON line on stdout (no progress bar).")
        var json = false

        func run() async throws {
            do {
                let ingestor = try await job.job().ingestor(logger: job.logger())
                let bar = ProgressBar(enabled: !json && apply)
                let result = try await ingestor.evolve(apply: apply, progress: { bar.update($0) })
                if json {
                    print(result.jsonLine)
                } else {
                    Self.describe(result)
                }
            } catch {
                throw ExitCodes.report(error)
            }
        }

        static func describe(_ r: EvolveSummary) {
            let p = r.plan
            guard !p.isEmpty else {
                print("nothing to evolve: no drift recorded that the schema does not hold (\(p.lineageRecordsRead) lineage records read)")
                return
            }
            var lines = [r.applied ? "evolved to schema \(r.schemaID) (was \(p.currentSchemaID))" : "plan (nothing changed; --apply commits it):"]
            for change in p.changes { lines.append("  schema: \(change)") }
            lines.append("  drifted objects: \(p.driftedObjects.count); objects to read again: \(p.objectsToReprocess.count)")
            lines.append("  data files replaced: \(p.dataFilesToReplace.count) holding \(p.rowsToReplace) rows")
            for key in p.objectsToReprocess.prefix(10) { lines.append("    \(key)") }
            if p.objectsToReprocess.count > 10 { lines.append("    ... \(p.objectsToReprocess.count - 10) more") }
            print(lines.joined(separator: "\n"))
            if let run = r.run { Run.describe(run) }
        }
    }
}
