//go:build linux

package busguard

import "syscall"

// Disabled is the D-Bus address that names no bus: connecting fails at once.
const Disabled = "disabled:"

const addressVar = "DBUS_SESSION_BUS_ADDRESS"

func init() {
	guard()
}

// guard sets DBUS_SESSION_BUS_ADDRESS when godbus would otherwise run
// dbus-launch. It changes nothing when an address is set or when godbus can
// find a bus by itself.
func guard() {
	if addr, _ := syscall.Getenv(addressVar); addr != "" && addr != "autolaunch:" {
		return
	}
	// godbus (the version 99designs/keyring pins) tries these two before
	// dbus-launch; it treats anything that exists as usable.
	run := "/run/user/" + itoa(syscall.Getuid())
	if exists(run+"/bus") || exists(run+"/dbus-session") {
		return
	}
	if dir, _ := syscall.Getenv("XDG_RUNTIME_DIR"); dir != "" && isSocket(dir+"/bus") {
		_ = syscall.Setenv(addressVar, "unix:path="+dir+"/bus")
		return
	}
	_ = syscall.Setenv(addressVar, Disabled)
}

func exists(path string) bool {
	var st syscall.Stat_t
	return syscall.Stat(path, &st) != syscall.ENOENT
}

func isSocket(path string) bool {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return false
	}
	return st.Mode&syscall.S_IFMT == syscall.S_IFSOCK
}

// itoa formats a non-negative int; strconv would add imports that could
// delay this package's init.
func itoa(n int) string {
	if n <= 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
