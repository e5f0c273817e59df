// Package env is a backend.Store over process environment variables and,
// optionally, a dotenv file: the way most deployments already hand
// credentials to a program.
//
//	s, err := env.New(env.Options{Prefix: "MYAPP", Environ: os.Environ()})
//
// # Variables and credentials
//
// Every variable of the store is named PREFIX_NAME, PREFIX_NAME_FIELD or
// PREFIX_NAME__KIND, where NAME is one segment of upper-case letters and
// digits and FIELD is one or more such segments joined by single '_'. The
// credential's name is NAME lower-cased, a field's name FIELD lower-cased:
//
//	MYAPP_TOKEN=t0k3n                       token = "t0k3n"
//	MYAPP_API_KEY=abc                       api   = {"key":"abc","secret":"def"}
//	MYAPP_API_SECRET=def
//	MYAPP_DB_MAX_CONN=5                     db    = {"max_conn":"5"}
//	MYAPP_CFG={"a":{"b":1}}                 cfg   = {"a":{"b":1}} (an object)
//	MYAPP_CFG__KIND=json
//	MYAPP_RAW={"a":1}                       raw   = "{\"a\":1}" (a string: no marker)
//
// Only these shapes belong to the store. A variable that merely starts
// with the prefix but has lower-case letters, an empty segment (MYAPP__X,
// MYAPP_A_) or another character after it is not a credential: List does
// not show it and no write touches it. MYAPPLE_X and MYAPPX_FOO are not
// under the prefix MYAPP at all, since the prefix is always followed by '_'.
//
// # The JSON marker
//
// A value is JSON only when the companion variable PREFIX_NAME__KIND holds
// exactly "json"; the Store writes it beside every object or array it
// encodes as JSON and removes it whenever it writes the name otherwise. A
// plain variable that only looks like JSON, or holds the text "json", is a
// string and comes back as the same string. No credential or field can
// write the marker by accident: field segments are never empty, so
// PREFIX_NAME__KIND can only ever be the marker.
//
// # What Set writes
//
//   - A string: PREFIX_NAME.
//   - An object whose fields are all strings, under field names of
//     lower-case letters and digits in segments joined by single '_' (at
//     least one field, none repeated, no NUL in a value): one
//     PREFIX_NAME_FIELD per field. Such an object reads back with its keys
//     in sorted order, encoded as backend.FromAny encodes, so a value that
//     came in through the tools reads back byte for byte.
//   - Any other object (nested objects or arrays, numbers, booleans, null,
//     field names such as "Key" or "a-b", or {}) and every array: compact
//     JSON in PREFIX_NAME, with PREFIX_NAME__KIND=json. Nested fields are
//     never spread over variables of their own.
//
// Before Set writes the new variables of a name it removes every other
// variable of that name, so one name never mixes shapes through this
// Store. Each variable's value may hold at most MaxValueSize (32,767) bytes
// of UTF-8, the Windows limit, or Set fails with backend.ErrTooLarge; a
// string holding NUL, which no environment variable can, fails with
// backend.ErrInvalidValue. Both are checked before anything is written.
//
// # Conflicts
//
// Variables set by other means can contradict each other. Get of such a
// name fails with an error wrapping ErrConflict (and so
// backend.ErrInvalidValue) that names the variables involved; List still
// shows the name, and Delete removes all of its variables. The cases:
//
//   - PREFIX_NAME and PREFIX_NAME_FIELD both set (the plain variable is not
//     preferred: guessing would hand out the wrong credential);
//   - PREFIX_NAME__KIND set to anything but "json", set without
//     PREFIX_NAME, or set beside field variables;
//   - PREFIX_NAME marked as JSON but not holding a JSON object or array.
//
// # Names
//
// A credential name must be lower-case ASCII letters and digits, as that
// is all a NAME segment reads back as. Names with '.', '-' or '_' (which
// would be read back as a field split), with upper-case letters (read back
// lower-cased), and so the reserved names such as backend.IndexName, are
// refused by Get, Set and Delete with an error wrapping
// backend.ErrInvalidName that says why.
//
// # Metadata
//
// Environment variables have nowhere to keep a description or times: Set
// drops them, and Get returns an empty Description and zero Created and
// Updated. The Store implements backend.Unindexed, so a Catalog lists it by
// List and Get instead of keeping an index.
//
// # Writing
//
// The Store is read-only unless Options.AutoSave is set: Set and Delete
// return an error wrapping backend.ErrReadOnly that says to start the
// server with --env-auto-save. With it, a write goes first to the dotenv
// file, if there is one, and then to the process environment through
// Options.Setenv and Options.Unsetenv. If the file cannot be written
// nothing changes; if the environment refuses a change, what was already
// changed (the file included) is undone.
//
// # The dotenv file
//
// Options.File is read by New. For each variable the process environment
// wins over the file, as with most dotenv loaders: the file supplies what
// the environment does not set. New does not copy the file's values into
// the process environment. When the file assigns a variable twice, the
// later assignment wins.
//
// The file may hold:
//
//	# comments, and blank lines
//	KEY=unquoted value         # a comment after a space or tab
//	export KEY=value
//	KEY='single quotes: every byte literal, newlines too'
//	KEY="double quotes: \n \r \t \" \\ \$ \` are escapes; others stay as written"
//
// with "\n" or "\r\n" line ends. Nothing is expanded: $VAR stays as
// written. Any other line (one without '=', an unterminated quote, text
// after a closing quote, a NUL byte) makes New fail with an error wrapping
// ErrMalformedFile that names the file and line number, never the content.
//
// Each write reads the file again, changes only the assignments of the one
// credential written (in place; new variables go after that credential's
// last line, or at the end, with "export " if any assignment in the file
// has it), and replaces the file atomically: a temporary file in the same
// directory, mode 0600, synced and renamed over the old one. Every other
// line and comment is kept byte for byte. Values are written in single
// quotes when they hold no single quote, newline or carriage return, and
// otherwise in double quotes with \\ \" \n \r \$ and \` escaped, so every
// value reads back identical; the single-quoted form is also literal to
// other dotenv readers and to a shell. A symlink
// at the path is written through. With AutoSave a missing file is created
// by the first write; without it, a missing file is an error. Two
// processes writing one file at the same time are not coordinated.
package env
