package parser

import "strings"

// Hint is a routing hint a statement carries in a comment.
type Hint uint8

const (
	HintNone Hint = iota
	// HintPrimary sends the statement to the primary.
	HintPrimary
	// HintReplica lets a read go to a replica even where it would not.
	HintReplica
)

// hintIn reads the routing hints in the comments of s (the blanks before
// a statement's first word, or between its first and second words):
//
//	/* shardgate:primary */  /* shardgate:replica */   shardgate's own
//	/*+ shardgate:primary */                           as an optimizer hint
//	/*#mycat:db_type=master*/ /*#mycat:db_type=slave*/ Mycat, DBLE (#dble:)
//	/*master*/ /*slave*/                               kingshard, Gaea
func hintIn(s string) Hint {
	h := HintNone
	for {
		i := strings.Index(s, "/*")
		if i < 0 {
			return h
		}
		s = s[i+2:]
		j := strings.Index(s, "*/")
		if j < 0 {
			return h
		}
		if x := hintOf(s[:j]); x != HintNone {
			h = x
		}
		s = s[j+2:]
	}
}

func hintOf(body string) Hint {
	b := strings.TrimSpace(strings.TrimPrefix(body, "+"))
	if k := strings.IndexByte(b, ':'); k > 0 {
		who := strings.ToLower(b[:k])
		what := strings.ToLower(strings.TrimSpace(b[k+1:]))
		switch who {
		case "shardgate":
			switch what {
			case "primary", "master":
				return HintPrimary
			case "replica", "slave":
				return HintReplica
			}
		case "#mycat", "#dble":
			switch strings.ReplaceAll(what, " ", "") {
			case "db_type=master":
				return HintPrimary
			case "db_type=slave":
				return HintReplica
			}
		}
		return HintNone
	}
	switch strings.ToLower(b) {
	case "master":
		return HintPrimary
	case "slave":
		return HintReplica
	}
	return HintNone
}

func hasComment(s string) bool { return strings.Contains(s, "/*") }
