// The floor of a cold `mage-vault get`: a Swift process that starts, opens one secretbox and
// prints it. `make bench` times it beside `mage-vault get`.
import MageVault

let keys = EnvironmentKeys(key: SecureBytes(count: 32) { $0.initializeMemory(as: UInt8.self, repeating: 7) })
let plaintext = Array("a made-up value of a typical secret length".utf8)
let box = plaintext.withUnsafeBytes { SecretBox.seal($0, keys: keys) }
let opened = box.withUnsafeBytes { SecretBox.open($0, keys: keys) }
opened?.withUnsafeBytes { Output.standardOutput($0) }
