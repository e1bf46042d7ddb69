package admin

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shardgate/shardgate/proxy/backend"
)

// Config versions are files in a directory beside the config file:
// <config>.versions/0001.yaml, 0002.yaml, ... Each is the config exactly as
// it was written, behind a header of comments saying when, by whom and by
// which statement it was made; a version file is itself a valid config.

const versionHeaderEnd = "# ---"

// Version describes one recorded config.
type Version struct {
	N         int
	Time      time.Time
	User      string
	Statement string
	File      string
	// Base is the version a rollback restored (0: not a rollback).
	Base int
}

// versions is where versions are kept: files beside the config, or the
// cluster's store (cluster.go).
type versions interface {
	list() ([]Version, error)
	read(n int) (Version, []byte, error)
	// record stores text as a new version made on version running and
	// returns its number.
	record(text []byte, user, statement string, base, running int) (int, error)
	find(text []byte) int
	where() string
	file(n int) string // where version n is, for people
	// strict: a change whose version cannot be recorded is refused.
	strict() bool
}

type versionStore struct{ dir string }

func (v *versionStore) where() string { return v.dir }
func (v *versionStore) strict() bool  { return false }

func newVersionStore(configPath string) *versionStore {
	return &versionStore{dir: configPath + ".versions"}
}

func (v *versionStore) file(n int) string { return filepath.Join(v.dir, fmt.Sprintf("%04d.yaml", n)) }

// list returns the recorded versions, oldest first.
func (v *versionStore) list() ([]Version, error) {
	entries, err := os.ReadDir(v.dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Version
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".yaml") || strings.HasPrefix(name, ".") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(name, ".yaml"))
		if err != nil || n <= 0 {
			continue
		}
		ver, _, err := v.read(n)
		if err != nil {
			continue
		}
		out = append(out, ver)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}

// read returns a version's description and its config text.
func (v *versionStore) read(n int) (Version, []byte, error) {
	path := v.file(n)
	data, err := os.ReadFile(path)
	if err != nil {
		return Version{}, nil, err
	}
	ver, body := parseVersion(n, data)
	ver.File = path
	return ver, body, nil
}

// parseVersion splits a stored version into its header and its text.
func parseVersion(n int, data []byte) (Version, []byte) {
	ver := Version{N: n}
	body := data
	sc := bufio.NewScanner(bytes.NewReader(data))
	off := 0
	for sc.Scan() {
		line := sc.Text()
		off += len(line) + 1
		if line == versionHeaderEnd {
			body = data[min(off, len(data)):]
			break
		}
		k, val, ok := strings.Cut(strings.TrimPrefix(line, "# "), ": ")
		if !ok {
			continue
		}
		switch k {
		case "time":
			ver.Time, _ = time.Parse(time.RFC3339, val)
		case "user":
			ver.User = val
		case "statement":
			ver.Statement = val
		case "base":
			ver.Base, _ = strconv.Atoi(val)
		}
	}
	return ver, body
}

// record writes text as the next version and returns its number.
func (v *versionStore) record(text []byte, user, statement string, base, _ int) (int, error) {
	if err := os.MkdirAll(v.dir, 0o700); err != nil {
		return 0, err
	}
	list, err := v.list()
	if err != nil {
		return 0, err
	}
	n := 1
	if len(list) > 0 {
		n = list[len(list)-1].N + 1
	}
	if err := backend.WriteFileDurably(v.file(n), formatVersion(n, text, user, statement, base)); err != nil {
		return 0, err
	}
	return n, nil
}

// formatVersion is version n as stored: a header, then the text.
func formatVersion(n int, text []byte, user, statement string, base int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# shardgate config version %d\n# time: %s\n# user: %s\n# statement: %s\n",
		n, time.Now().UTC().Format(time.RFC3339), oneLine(user), oneLine(statement))
	if base != 0 {
		fmt.Fprintf(&b, "# base: %d\n", base)
	}
	b.WriteString(versionHeaderEnd + "\n")
	b.Write(text)
	return b.Bytes()
}

// find returns the newest version whose text is text, 0 if none.
func (v *versionStore) find(text []byte) int {
	list, _ := v.list()
	for i := len(list) - 1; i >= 0; i-- {
		if _, body, err := v.read(list[i].N); err == nil && bytes.Equal(body, text) {
			return list[i].N
		}
	}
	return 0
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 2000 {
		s = s[:2000] + "..."
	}
	return s
}
