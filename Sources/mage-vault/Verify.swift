import MageVault
import MageVaultCommandLine

struct Verify: Command {
    static let spec = CommandSpec(
        name: "verify",
        abstract: "Check every record; exit 0 when healthy, 4 when damaged.",
        discussion: """
            Checks the framing and checksum of every line (every environment's, key or not) \
            and opens every record of this environment. Reports counts per uuid, a torn tail \
            (an interrupted write; healthy, cut by the next writer) and the offset of every \
            damaged line. --repair then does what 'recover' does.
            """,
        options: [.quiet, .flag("repair", help: "Write a repaired log when damage or a torn tail is found (see 'recover').")]
    )

    let progress: ProgressOptions
    let repair: Bool
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        progress = ProgressOptions(parsed)
        repair = parsed.flag("repair")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let vault = try options.openVault(create: false)
        let reporter = progress.reporter("verifying")
        let report = try vault.verify(progress: reporter.update)
        reporter.finish()
        print(report: report, ours: vault.environment.id)
        if repair, !report.isHealthy || report.tornBytes > 0 {
            try Recover.repair(vault, progress: progress)
            return
        }
        if !report.isHealthy {
            throw CommandFailure(message: "the vault is damaged; 'mage-vault recover' writes a repaired log and keeps this one", code: ExitStatus.damaged)
        }
    }

    private func print(report: VerifyReport, ours: EnvironmentID) {
        Swift.print("log        \(report.path)")
        if let id = report.vaultID { Swift.print("vault id   \(id)") }
        Swift.print("")
        Swift.print("UUID                              RECORDS  LIVE  OPENED  FAILED")
        for counts in report.environments {
            let opened = counts.keyHeld ? String(counts.opened).leftPadded(to: 6) : "no key"
            let failed = counts.keyHeld ? String(counts.failed + counts.otherKey).leftPadded(to: 6) : "     -"
            Swift.print("\(counts.id)  \(String(counts.records).leftPadded(to: 7))  \(String(counts.liveSecrets).leftPadded(to: 4))  \(opened)  \(failed)")
            if counts.otherKey > 0 {
                Swift.print("  \(counts.otherKey) record(s) of this environment are sealed under a key id it does not hold (listed below)")
            }
            if counts.retiredKey > 0 {
                Swift.print("  \(counts.retiredKey) record(s) open only with a retired key: 'mage-vault rekey' re-seals them")
            }
        }
        Swift.print("")
        Swift.print(report.tornBytes > 0 ? "torn tail: \(report.tornBytes) bytes after the last complete line (an interrupted write; ignored, and cut by the next writer)" : "torn tail: none")
        if report.lastLineLacksNewline { Swift.print("last line: lacks its newline (it counts; the next write adds the newline)") }
        if report.damaged.isEmpty {
            Swift.print("damaged lines: none")
        } else {
            Swift.print("damaged lines: \(report.damaged.count)")
            for line in report.damaged { Swift.print("  at byte offset \(line.offset): \(line.reason)") }
        }
        if !report.unknownKey.isEmpty {
            Swift.print("records under key ids not held here: \(report.unknownKey.count) (never read; kept by recover: a rekey made elsewhere needs its new key file here)")
            for line in report.unknownKey.prefix(8) { Swift.print("  at byte offset \(line.offset): \(line.reason)") }
        }
        Swift.print(report.isHealthy ? "healthy" : "DAMAGED")
    }
}

struct Recover: Command {
    static let spec = CommandSpec(
        name: "recover",
        abstract: "Write a new log of every record that still verifies; keep the damaged one beside it.",
        discussion: """
            Keeps the header, every well-formed record of other environments byte for byte, \
            and every record of this environment that opens; drops damaged lines and a torn \
            tail. The original is kept as <log>.damaged-<time>. A healthy log is left alone. \
            Records sealed under a key id their environment does not hold are kept (they may \
            be a rekey's made on another branch or machine); --set-aside-unknown-keys sets \
            aside those of the selected scope as well, once you know no rekey elsewhere \
            needs them.
            """,
        options: [.quiet, .flag("set-aside-unknown-keys", help: "Also set aside the selected scope's records under key ids it does not hold.")]
    )

    let progress: ProgressOptions
    let setAsideUnknownKeys: Bool
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        progress = ProgressOptions(parsed)
        setAsideUnknownKeys = parsed.flag("set-aside-unknown-keys")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        try Self.repair(options.openVault(create: false), progress: progress, unknownKeys: setAsideUnknownKeys)
    }

    static func repair(_ vault: Vault, progress: ProgressOptions, unknownKeys: Bool = false) throws {
        let reporter = progress.reporter("recovering")
        let report = try vault.recover(settingAsideUnknownKeys: unknownKeys, progress: reporter.update)
        reporter.finish()
        guard let original = report.originalKeptAt else {
            print("nothing to repair: every line verifies")
            return
        }
        print("kept \(report.keptRecords) records; dropped \(report.droppedLines) damaged line(s)\(report.tornBytes > 0 ? " and a torn tail of \(report.tornBytes) bytes" : "")")
        print("the damaged original is kept as \(original)")
    }
}
