// Command fakeop is a fake of the 1Password CLI (op, version 2) for tests.
// It follows op's documented command line and JSON for exactly what the
// onepassword backend runs, and refuses the rest as op would refuse an
// unknown flag or command:
//
//	op --version
//	op vault get VAULT --format=json
//	op item list --vault=V [--tags=T[,T...]] --format=json
//	op item get ITEM --vault=V [--reveal] --format=json
//	op item create --vault=V [--tags=T] --format=json -     (template on stdin)
//	op item edit ITEM --vault=V [--tags=T] --format=json    (template piped on stdin)
//	op item delete ITEM --vault=V
//
// plus the global flag --account on every command. Flags take their value as
// --flag=value or --flag value. ITEM is an item ID or title; VAULT and V a
// vault ID or name. JSON shapes follow `op item get --format json`: id,
// title, version, vault {id, name}, category, last_edited_by, created_at,
// updated_at, tags, sections and fields {id, section, type, purpose, label,
// value, reference}. Since op 2.30.0, CONCEALED values are printed only with
// --reveal; so here. `item list --tags T` also matches sub-tags "T/...", as
// op's help says. Missing built-in fields of a category (API_CREDENTIAL,
// PASSWORD, LOGIN, SECURE_NOTE) are added empty, as op does; empty values
// are left out of the output. Errors are op's texts ("[ERROR] <time> ...")
// on standard error with exit status 1.
//
// Environment:
//
//	FAKEOP_STATE     path of the JSON state file (required)
//	FAKEOP_VAULTS    comma-separated vault names for a new state (default Private)
//	FAKEOP_ARGV_LOG  file to which each run appends its arguments as one JSON array
//	FAKEOP_PID_LOG   file to which each run appends its process ID
//	FAKEOP_VERSION   version to print (default 2.32.0)
//	FAKEOP_MODE      a fault: signedout, hang (sleep, never answer), garbage
//	                 (print non-JSON with exit 0), crash (partial output, the
//	                 input echoed on standard error, exit 2; nothing stored),
//	                 novault (every vault is missing)
//	FAKEOP_MODE_ON   comma-separated commands the fault applies to ("version",
//	                 "vault get", "item list", "item get", "item create",
//	                 "item edit", "item delete"); default all (signedout and
//	                 novault never apply to --version)
//
// A create or edit whose CONCEALED value (6 bytes or more) also appears in
// an argument fails with exit status 4: values must come on stdin only.
// Concurrent runs are serialized by a lock on FAKEOP_STATE + ".lock".
// Exit status 3 means the fake does not implement what it was asked.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// exitError ends a run with an exit status and a message for standard
// error (none if empty).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// opError is one of op's errors: "[ERROR] <time> msg", exit status 1.
func opError(format string, args ...any) error {
	return &exitError{code: 1, msg: "[ERROR] " + time.Now().Format("2006/01/02 15:04:05") + " " + fmt.Sprintf(format, args...)}
}

// unimplemented is a request the fake cannot answer faithfully.
func unimplemented(format string, args ...any) error {
	return &exitError{code: 3, msg: "fakeop: not implemented: " + fmt.Sprintf(format, args...)}
}

// flagSpec says whether a flag takes a value.
var flagSpec = map[string]bool{
	"account": true,
	"format":  true,
	"vault":   true,
	"tags":    true,
	"reveal":  false,
	"version": false,
}

// commandSpec lists what one command accepts besides the global flags.
type commandSpec struct {
	flags   []string
	maxArgs int // -1: any number (assignment statements)
	minArgs int
}

var commands = map[string]commandSpec{
	"vault get":   {minArgs: 1, maxArgs: 1},
	"item list":   {flags: []string{"vault", "tags"}},
	"item get":    {flags: []string{"vault", "reveal"}, minArgs: 1, maxArgs: 1},
	"item create": {flags: []string{"vault", "tags"}, maxArgs: -1},
	"item edit":   {flags: []string{"vault", "tags"}, minArgs: 1, maxArgs: -1},
	"item delete": {flags: []string{"vault"}, minArgs: 1, maxArgs: 1},
}

var globalFlags = []string{"account", "format"}

// invocation is a parsed command line.
type invocation struct {
	command string            // "item list", or "version"
	args    []string          // positional arguments after the command
	flags   map[string]string // flag name to value ("true" for booleans)
	argv    []string
}

func run(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	logLine(os.Getenv("FAKEOP_ARGV_LOG"), argv)
	appendFile(os.Getenv("FAKEOP_PID_LOG"), fmt.Sprintf("%d\n", os.Getpid()))
	err := serve(argv, stdin, stdout)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "fakeop:", err)
	return 3
}

func serve(argv []string, stdin io.Reader, stdout io.Writer) error {
	inv, err := parse(argv)
	if err != nil {
		return err
	}
	if err := fault(inv, stdin, stdout); err != nil {
		return err
	}
	if inv.command == "version" {
		v := os.Getenv("FAKEOP_VERSION")
		if v == "" {
			v = "2.32.0"
		}
		fmt.Fprintln(stdout, v)
		return nil
	}
	if inv.command != "item delete" && inv.flags["format"] != "json" {
		return unimplemented("only --format=json output (got %q)", inv.flags["format"])
	}
	if _, ok := inv.flags["account"]; ok && inv.flags["account"] == "" {
		return opError("flag needs an argument: --account")
	}
	path := os.Getenv("FAKEOP_STATE")
	if path == "" {
		return unimplemented("FAKEOP_STATE is not set")
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	st, fresh, err := load(path)
	if err != nil {
		return err
	}
	var input []byte
	if inv.command == "item create" || inv.command == "item edit" {
		if input, err = pipedInput(stdin); err != nil {
			return err
		}
	}
	out, changed, err := execute(st, inv, input)
	if err != nil {
		return err
	}
	if changed || fresh {
		if err := save(path, st); err != nil {
			return err
		}
	}
	if out != nil {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	return nil
}

// parse splits argv into the command, its arguments and flags, refusing
// unknown flags and commands as op does.
func parse(argv []string) (*invocation, error) {
	inv := &invocation{flags: map[string]string{}, argv: argv}
	var words []string
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-" || !strings.HasPrefix(a, "-"):
			words = append(words, a)
		case a == "--":
			words = append(words, argv[i+1:]...)
			i = len(argv)
		case !strings.HasPrefix(a, "--"):
			return nil, opError("unknown shorthand flag: %q in %s", a[1:2], a)
		default:
			name, value, hasValue := strings.Cut(a[2:], "=")
			takesValue, known := flagSpec[name]
			if !known {
				return nil, opError("unknown flag: --%s", name)
			}
			switch {
			case takesValue && !hasValue:
				if i+1 >= len(argv) {
					return nil, opError("flag needs an argument: --%s", name)
				}
				i++
				value = argv[i]
			case !takesValue && !hasValue:
				value = "true"
			case !takesValue && value != "true" && value != "false":
				return nil, opError("invalid argument %q for \"--%s\" flag", value, name)
			}
			inv.flags[name] = value
		}
	}
	if inv.flags["version"] == "true" {
		if len(words) > 0 || len(inv.flags) > 1 {
			return nil, unimplemented("--version with anything else")
		}
		inv.command = "version"
		return inv, nil
	}
	if len(words) < 2 {
		return nil, unimplemented("command %q", strings.Join(words, " "))
	}
	inv.command = words[0] + " " + words[1]
	spec, ok := commands[inv.command]
	if !ok {
		if words[0] != "item" && words[0] != "vault" {
			return nil, opError("unknown command %q for \"op\"", words[0])
		}
		return nil, opError("unknown command %q for \"op %s\"", words[1], words[0])
	}
	for name := range inv.flags {
		if !slices.Contains(spec.flags, name) && !slices.Contains(globalFlags, name) {
			return nil, opError("unknown flag: --%s", name)
		}
	}
	inv.args = words[2:]
	switch {
	case len(inv.args) < spec.minArgs:
		return nil, opError("%s: expected at least %d argument(s), received %d", inv.command, spec.minArgs, len(inv.args))
	case spec.maxArgs >= 0 && len(inv.args) > spec.maxArgs:
		return nil, opError("%s: expected at most %d argument(s), received %d", inv.command, spec.maxArgs, len(inv.args))
	}
	return inv, nil
}

// fault applies FAKEOP_MODE. It returns nil to go on normally.
func fault(inv *invocation, stdin io.Reader, stdout io.Writer) error {
	mode := os.Getenv("FAKEOP_MODE")
	if mode == "" {
		return nil
	}
	if on := os.Getenv("FAKEOP_MODE_ON"); on != "" {
		if !slices.Contains(splitList(on), inv.command) {
			return nil
		}
	} else if inv.command == "version" && (mode == "signedout" || mode == "novault") {
		return nil
	}
	switch mode {
	case "signedout":
		return opError("You are not currently signed in. Please run `op signin --help` for instructions")
	case "novault":
		if inv.command == "vault get" {
			return opError("%q isn't a vault in this account. Specify the vault with its ID or name.", inv.args[0])
		}
		if v, ok := inv.flags["vault"]; ok {
			return opError("%q isn't a vault in this account. Specify the vault with its ID or name.", v)
		}
		return nil
	case "hang":
		time.Sleep(10 * time.Minute)
		return unimplemented("hang mode outlived its sleep")
	case "garbage":
		in, _ := io.ReadAll(stdin)
		fmt.Fprintf(stdout, "FAKEOP-GARBAGE: this is not JSON <%s>\n", in)
		return &exitError{code: 0}
	case "crash":
		in, _ := io.ReadAll(stdin)
		fmt.Fprint(stdout, `{"id": "`)
		return &exitError{code: 2, msg: fmt.Sprintf("panic: fakeop crashed mid-write; input was %.200q", in)}
	}
	return unimplemented("FAKEOP_MODE=%q", mode)
}

// pipedInput reads a template piped on standard input, if there is one.
func pipedInput(stdin io.Reader) ([]byte, error) {
	if f, ok := stdin.(*os.File); ok {
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 && !fi.Mode().IsRegular() {
			return nil, nil // a terminal or /dev/null: nothing piped
		}
	}
	return io.ReadAll(stdin)
}

// state is the fake's whole account.
type state struct {
	Vaults []vault `json:"vaults"`
	Items  []*item `json:"items"`
}

type vault struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
}

type ref struct {
	ID    string `json:"id"`
	Label string `json:"label,omitempty"`
}

type vaultRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type field struct {
	ID        string `json:"id"`
	Section   *ref   `json:"section,omitempty"`
	Type      string `json:"type"`
	Purpose   string `json:"purpose,omitempty"`
	Label     string `json:"label"`
	Value     string `json:"value,omitempty"`
	Reference string `json:"reference,omitempty"`
}

type item struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	Version      int      `json:"version"`
	Vault        vaultRef `json:"vault"`
	Category     string   `json:"category"`
	LastEditedBy string   `json:"last_edited_by"`
	CreatedAt    string   `json:"created_at"`
	UpdatedAt    string   `json:"updated_at"`
	Tags         []string `json:"tags,omitempty"`
	Sections     []ref    `json:"sections,omitempty"`
	Fields       []field  `json:"fields,omitempty"`
}

// summary is an item as op item list prints it.
type summary struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	Version      int      `json:"version"`
	Vault        vaultRef `json:"vault"`
	Category     string   `json:"category"`
	LastEditedBy string   `json:"last_edited_by"`
	CreatedAt    string   `json:"created_at"`
	UpdatedAt    string   `json:"updated_at"`
	Tags         []string `json:"tags,omitempty"`
}

// vaultInfo is a vault as op vault get prints it.
type vaultInfo struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	ContentVersion   int    `json:"content_version"`
	AttributeVersion int    `json:"attribute_version"`
	Items            int    `json:"items"`
	Type             string `json:"type"`
	CreatedAt        string `json:"created_at"`
	UpdatedAt        string `json:"updated_at"`
}

// templateIn is an item JSON template as read from stdin.
type templateIn struct {
	Title    string    `json:"title"`
	Category string    `json:"category"`
	Tags     *[]string `json:"tags"`
	Sections []ref     `json:"sections"`
	Fields   []field   `json:"fields"`
}

const userID = "fakeuser0000000000000000aa"

func now() string { return time.Now().UTC().Format(time.RFC3339) }

func newID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 26)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// load reads the state, or makes a fresh one (reported, to be saved) when
// there is no state file yet.
func load(path string) (*state, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		names := splitList(os.Getenv("FAKEOP_VAULTS"))
		if len(names) == 0 {
			names = []string{"Private"}
		}
		st := &state{}
		for _, n := range names {
			st.Vaults = append(st.Vaults, vault{ID: newID(), Name: n, CreatedAt: now()})
		}
		return st, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	st := &state{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, false, fmt.Errorf("state file %s: %w", path, err)
	}
	return st, false, nil
}

func save(path string, st *state) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fakeop-state-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// findVault finds a vault by ID or name.
func (st *state) findVault(s string) (*vault, error) {
	for i := range st.Vaults {
		if st.Vaults[i].ID == s {
			return &st.Vaults[i], nil
		}
	}
	var found []*vault
	for i := range st.Vaults {
		if strings.EqualFold(st.Vaults[i].Name, s) {
			found = append(found, &st.Vaults[i])
		}
	}
	switch len(found) {
	case 0:
		return nil, opError("%q isn't a vault in this account. Specify the vault with its ID or name.", s)
	case 1:
		return found[0], nil
	}
	return nil, opError("More than one vault matches %q. Try again and specify the vault by its ID.", s)
}

// findItem finds an item of vault v by ID or title.
func (st *state) findItem(v *vault, s string) (int, error) {
	for i, it := range st.Items {
		if it.Vault.ID == v.ID && it.ID == s {
			return i, nil
		}
	}
	var found []int
	for i, it := range st.Items {
		if it.Vault.ID == v.ID && it.Title == s {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 0:
		return -1, opError("%q isn't an item in the %q vault. Specify the item with its UUID, name, or domain.", s, v.Name)
	case 1:
		return found[0], nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "More than one item matches %q. Try again and specify the item by its ID:", s)
	for _, i := range found {
		fmt.Fprintf(&b, "\n\t* for the item %q in vault %s: %s", st.Items[i].Title, v.Name, st.Items[i].ID)
	}
	return -1, opError("%s", b.String())
}

// itemVault resolves the --vault flag of an item command.
func (st *state) itemVault(inv *invocation) (*vault, error) {
	name, ok := inv.flags["vault"]
	if !ok {
		return nil, unimplemented("%s without --vault", inv.command)
	}
	return st.findVault(name)
}

// execute runs one command on st. It returns what to print (nil for
// nothing) and whether st changed.
func execute(st *state, inv *invocation, input []byte) (any, bool, error) {
	switch inv.command {
	case "vault get":
		v, err := st.findVault(inv.args[0])
		if err != nil {
			return nil, false, err
		}
		n := 0
		for _, it := range st.Items {
			if it.Vault.ID == v.ID {
				n++
			}
		}
		return vaultInfo{ID: v.ID, Name: v.Name, ContentVersion: 1 + n, AttributeVersion: 1, Items: n, Type: "USER_CREATED", CreatedAt: v.CreatedAt, UpdatedAt: v.CreatedAt}, false, nil

	case "item list":
		v, err := st.itemVault(inv)
		if err != nil {
			return nil, false, err
		}
		tags := splitList(inv.flags["tags"])
		out := []summary{}
		for _, it := range st.Items {
			if it.Vault.ID != v.ID || (len(tags) > 0 && !tagged(it.Tags, tags)) {
				continue
			}
			out = append(out, summary{ID: it.ID, Title: it.Title, Version: it.Version, Vault: it.Vault, Category: it.Category,
				LastEditedBy: it.LastEditedBy, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Tags: it.Tags})
		}
		return out, false, nil

	case "item get":
		v, err := st.itemVault(inv)
		if err != nil {
			return nil, false, err
		}
		i, err := st.findItem(v, inv.args[0])
		if err != nil {
			return nil, false, err
		}
		return present(st.Items[i], inv.flags["reveal"] == "true"), false, nil

	case "item create":
		if len(inv.args) == 0 || inv.args[0] != "-" {
			return nil, false, unimplemented("item create without a template on stdin ('-')")
		}
		v, err := st.itemVault(inv)
		if err != nil {
			return nil, false, err
		}
		t, err := readTemplate(input, inv)
		if err != nil {
			return nil, false, err
		}
		if len(inv.args) > 1 {
			return nil, false, unimplemented("assignment statements")
		}
		cat, err := normalCategory(t.Category)
		if err != nil {
			return nil, false, err
		}
		it := &item{ID: newID(), Version: 1, Vault: vaultRef{ID: v.ID, Name: v.Name}, Category: cat,
			LastEditedBy: userID, CreatedAt: now()}
		it.UpdatedAt = it.CreatedAt
		if err := apply(it, t, inv); err != nil {
			return nil, false, err
		}
		if it.Title == "" {
			it.Title = "Untitled " + strings.ToLower(strings.ReplaceAll(cat, "_", " ")) + " item"
		}
		st.Items = append(st.Items, it)
		return present(it, false), true, nil

	case "item edit":
		v, err := st.itemVault(inv)
		if err != nil {
			return nil, false, err
		}
		i, err := st.findItem(v, inv.args[0])
		if err != nil {
			return nil, false, err
		}
		if input == nil {
			return nil, false, unimplemented("item edit without a piped template")
		}
		t, err := readTemplate(input, inv)
		if err != nil {
			return nil, false, err
		}
		if len(inv.args) > 1 {
			return nil, false, unimplemented("assignment statements")
		}
		it := *st.Items[i]
		if t.Category != "" {
			cat, err := normalCategory(t.Category)
			if err != nil {
				return nil, false, err
			}
			if cat != it.Category {
				return nil, false, opError("an item's category can't be changed")
			}
		}
		if err := apply(&it, t, inv); err != nil {
			return nil, false, err
		}
		it.Version++
		it.UpdatedAt = now()
		it.LastEditedBy = userID
		st.Items[i] = &it
		return present(&it, false), true, nil

	case "item delete":
		v, err := st.itemVault(inv)
		if err != nil {
			return nil, false, err
		}
		i, err := st.findItem(v, inv.args[0])
		if err != nil {
			return nil, false, err
		}
		st.Items = slices.Delete(st.Items, i, i+1)
		return nil, true, nil
	}
	return nil, false, unimplemented("command %q", inv.command)
}

// tagged reports whether tags holds one of want or a sub-tag of one.
func tagged(tags, want []string) bool {
	for _, t := range tags {
		for _, w := range want {
			if t == w || strings.HasPrefix(t, w+"/") {
				return true
			}
		}
	}
	return false
}

// readTemplate parses a template and refuses one whose concealed values
// also appear among the arguments.
func readTemplate(input []byte, inv *invocation) (*templateIn, error) {
	if len(bytes.TrimSpace(input)) == 0 {
		return nil, opError("no item template was found on standard input")
	}
	t := &templateIn{}
	if err := json.Unmarshal(input, t); err != nil {
		return nil, opError("couldn't parse the item template: invalid JSON")
	}
	for _, f := range t.Fields {
		if f.Type != "CONCEALED" || len(f.Value) < 6 {
			continue
		}
		for _, a := range inv.argv {
			if strings.Contains(a, f.Value) {
				return nil, &exitError{code: 4, msg: "fakeop: a concealed field's value appears on the command line"}
			}
		}
	}
	return t, nil
}

var fieldTypes = []string{"STRING", "CONCEALED", "EMAIL", "URL", "DATE", "MONTH_YEAR", "PHONE", "OTP", "MENU"}

// builtins are the fields each category has even when a template leaves
// them out.
var builtins = map[string][]field{
	"API_CREDENTIAL": {
		{ID: "notesPlain", Type: "STRING", Purpose: "NOTES", Label: "notesPlain"},
		{ID: "username", Type: "STRING", Label: "username"},
		{ID: "credential", Type: "CONCEALED", Label: "credential"},
		{ID: "type", Type: "MENU", Label: "type"},
		{ID: "filename", Type: "STRING", Label: "filename"},
		{ID: "validFrom", Type: "DATE", Label: "valid from"},
		{ID: "expires", Type: "DATE", Label: "expires"},
		{ID: "hostname", Type: "STRING", Label: "hostname"},
	},
	"PASSWORD": {
		{ID: "password", Type: "CONCEALED", Purpose: "PASSWORD", Label: "password"},
		{ID: "notesPlain", Type: "STRING", Purpose: "NOTES", Label: "notesPlain"},
	},
	"LOGIN": {
		{ID: "username", Type: "STRING", Purpose: "USERNAME", Label: "username"},
		{ID: "password", Type: "CONCEALED", Purpose: "PASSWORD", Label: "password"},
		{ID: "notesPlain", Type: "STRING", Purpose: "NOTES", Label: "notesPlain"},
	},
	"SECURE_NOTE": {
		{ID: "notesPlain", Type: "STRING", Purpose: "NOTES", Label: "notesPlain"},
	},
}

// normalCategory accepts a category as op does: any case, spaces or
// underscores ("API Credential", "api_credential").
func normalCategory(c string) (string, error) {
	n := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c), " ", "_"))
	if n == "APICREDENTIAL" {
		n = "API_CREDENTIAL"
	}
	if n == "SECURENOTE" {
		n = "SECURE_NOTE"
	}
	if _, ok := builtins[n]; !ok {
		if c == "" {
			return "", opError("a category is required: set it in the template or with --category")
		}
		return "", unimplemented("category %q", c)
	}
	return n, nil
}

// apply sets an item's title, tags, sections and fields from a template
// (fields and sections replace the old ones) and the flags.
func apply(it *item, t *templateIn, inv *invocation) error {
	if t.Title != "" {
		it.Title = t.Title
	}
	if t.Tags != nil {
		it.Tags = cleanTags(*t.Tags)
	}
	if tags, ok := inv.flags["tags"]; ok {
		it.Tags = cleanTags(splitList(tags))
	}
	sections := map[string]ref{}
	for _, s := range t.Sections {
		if s.ID == "" {
			s.ID = newID()
		}
		if _, dup := sections[s.ID]; dup {
			return opError("section ID %q is used more than once", s.ID)
		}
		sections[s.ID] = s
	}
	ids := map[string]bool{}
	var fields []field
	for _, f := range t.Fields {
		if f.Type == "" {
			f.Type = "STRING"
		}
		if !slices.Contains(fieldTypes, f.Type) {
			return opError("%q isn't a valid field type", f.Type)
		}
		if f.Section != nil {
			s, ok := sections[f.Section.ID]
			if !ok {
				return opError("the field %q refers to a section that doesn't exist", f.Label)
			}
			f.Section = &ref{ID: s.ID, Label: s.Label}
		}
		if f.ID == "" {
			f.ID = newID()
		}
		if ids[f.ID] {
			return opError("field ID %q is used more than once", f.ID)
		}
		ids[f.ID] = true
		f.Reference = ""
		fields = append(fields, f)
	}
	for _, b := range builtins[it.Category] {
		if !ids[b.ID] {
			fields = append(fields, b)
		}
	}
	it.Sections = t.Sections
	for i := range it.Sections {
		it.Sections[i] = sections[it.Sections[i].ID]
	}
	it.Fields = fields
	return nil
}

func cleanTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// present returns an item as op prints it: references filled in, and
// CONCEALED values hidden unless reveal.
func present(it *item, reveal bool) *item {
	out := *it
	out.Fields = make([]field, len(it.Fields))
	for i, f := range it.Fields {
		path := f.Label
		if f.Section != nil && f.Section.Label != "" {
			path = f.Section.Label + "/" + f.Label
		}
		f.Reference = "op://" + it.Vault.Name + "/" + it.Title + "/" + path
		if f.Type == "CONCEALED" && f.Value != "" && !reveal {
			f.Value = "[use 'op item get " + it.ID + " --reveal' to reveal]"
		}
		out.Fields[i] = f
	}
	return &out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// logLine appends v as one line of JSON to path, if path is set.
func logLine(path string, v any) {
	if path == "" {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	appendFile(path, string(b)+"\n")
}

func appendFile(path, s string) {
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(s)
}
