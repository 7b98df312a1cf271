/// How the parser words an unknown command or help topic: it names the nearest command
/// (`gte` → `get`) and where the list is, exit 2.
public enum CommandWords {
    /// The closest of `candidates` to `word` by edit distance (a swap of two neighbours
    /// counts as one edit, so `gte` finds `get`), or the one `word` begins; nil when none is
    /// close enough to be what was meant.
    public static func nearest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }
        if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2, best.1 < word.count { return best.0 }
        let prefixed = candidates.filter { $0.hasPrefix(word) }
        return word.count >= 2 && prefixed.count == 1 ? prefixed[0] : nil
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    /// adjacent characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var distance = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { distance[i][0] = i }
        for j in 0...b.count { distance[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                distance[i][j] = min(distance[i - 1][j] + 1, distance[i][j - 1] + 1, distance[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    distance[i][j] = min(distance[i][j], distance[i - 2][j - 2] + 1)
                }
            }
        }
        return distance[a.count][b.count]
    }

    /// The failure for `word`, which is not a subcommand of the group at `path` (below the
    /// root; empty for the root itself).
    static func unknown(_ word: String, in path: [CommandSpec], root: CommandSpec, help: Bool) -> CommandFailure {
        let group = path.last ?? root
        let isRoot = path.isEmpty
        let names = group.subcommands.filter { !$0.isHidden }.map(\.name) + (isRoot ? ["help"] : [])
        let groupName = ([root] + path).map(\.name).joined(separator: " ")
        let suggestion = nearest(to: word, in: names).map { " Did you mean '\($0)'?" } ?? ""
        let listing = isRoot ? "'\(root.name) help' lists the commands" : "'\(root.name) help \(path.map(\.name).joined(separator: " "))' lists them"
        return CommandFailure(
            message: "\(help ? "no help for '\(word)': it" : "'\(word)'") is not a \(groupName) command.\(suggestion) \(listing)",
            code: ExitStatus.usage)
    }
}
