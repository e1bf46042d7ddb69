//go:build integration

package integration

// The sharding acceptance suite: one data set (testdata/shop) is loaded
// through the proxy, configured exactly as the example of DESIGN.md
// (plus three extra tables that exercise the hash, range and date
// algorithms), and into an unsharded oracle database; then every query shape
// of testdata/shop/queries.txt and a sequence of writes run through both, and
// the results, the affected-row counts and finally every table are compared.
//
//	go test -tags integration -run Sharding ./integration/
//	go test -tags integration -run 'TestSharding$/query/jn' -v ./integration/   (one category)
//
// TestShardingOracleSelfCheck needs no proxy: it proves that every shape is
// valid SQL for MariaDB and deterministic (twice on the oracle, and once more
// on a copy of the data in Aria tables filled in a shuffled order, which
// changes the physical row order the way sharding does), so that a
// difference in TestSharding is a proxy bug, not a test bug.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
)

// shopConfig is the example of DESIGN.md verbatim (listen -> {{LISTEN}};
// admin -> {{ADMIN}}, a free port, so that parallel runs do not clash), with
// three more tables appended to schema shop.
const shopConfig = `
listen: {{LISTEN}}            # client port (MySQL protocol)
admin: {{ADMIN}}             # admin console (MySQL protocol, admin users only)
users:
  - {name: app, password: app, schemas: [shop]}
  - {name: ops, password: ops, admin: true}
data_hosts:                       # one replication group each
  - name: dh0
    user: sg
    password: sg
    primary: 127.0.0.1:13306
    replicas: [{addr: 127.0.0.1:13316, weight: 1}]
  - name: dh1
    user: sg
    password: sg
    primary: 127.0.0.1:13307
    replicas: [{addr: 127.0.0.1:13317, weight: 1}]
data_nodes:                       # a physical database on a data host
  - {name: dn0, host: dh0, database: shop_0}
  - {name: dn1, host: dh1, database: shop_1}
schemas:
  - name: shop                    # the logical database clients see
    default_node: dn0             # tables not listed live here, unsharded
    tables:
      users:    {node: dn1}                                   # business-level placement
      orders:   {column: user_id, algorithm: mod, shards: 4, nodes: [dn0, dn1]}
      order_items: {parent: orders, column: order_id, parent_column: id}   # ER child
      regions:  {global: true}                                # copy on every node
      # beyond the DESIGN example: the other algorithms
      accounts: {column: code, algorithm: hash, shards: 4, nodes: [dn0, dn1]}
      events:   {column: id, algorithm: range, shards: 4, nodes: [dn0, dn1], options: {boundaries: [250, 500, 750]}}
      visits:   {column: visit_date, algorithm: date, shards: 4, nodes: [dn0, dn1], options: {unit: month, start: '2024-01-01', per_shard: 3, wrap: true}}
`

// shopTables are the logical tables in creation order, with their primary
// key (the ORDER BY of a whole-table comparison).
var shopTables = []struct{ name, pk string }{
	{"regions", "id"},
	{"users", "id"},
	{"orders", "id"},
	{"order_items", "id"},
	{"products", "id"},
	{"accounts", "code"},
	{"events", "id"},
	{"visits", "id, visit_date"},
}

// Expected physical tables per data node: shard i of a 4-shard table over
// [dn0, dn1] lives on nodes[i % 2]; users on dn1; products (unlisted) on dn0;
// regions on both.
var wantPhysical = map[string][]string{
	"shop_0": {"accounts_0", "accounts_2", "events_0", "events_2", "order_items_0", "order_items_2",
		"orders_0", "orders_2", "products", "regions", "visits_0", "visits_2"},
	"shop_1": {"accounts_1", "accounts_3", "events_1", "events_3", "order_items_1", "order_items_3",
		"orders_1", "orders_3", "regions", "users", "visits_1", "visits_3"},
}

// writeCase is one statement of the write sequence.
type writeCase struct {
	ID  string
	SQL string
	// Refuse: the proxy must refuse it (1235 "shardgate does not support ...",
	// the message naming RefuseWhy), while the oracle accepts it.
	Refuse    bool
	RefuseWhy []string // any of these words in the message (lower case)
	// RefuseCode, when set, is the error the proxy must give instead of 1235.
	RefuseCode uint16
	// Error: the oracle fails; the proxy must fail with the same code.
	Error bool
	// Check: a query compared right after the write (as a multiset).
	Check string
}

const orderCols = "(id, user_id, region_id, amount, status, tag, created, qty, score, note)"

// shopWrites is the write sequence; ids start above the data set's.
var shopWrites = []writeCase{
	// single-row and multi-row inserts on every kind of table
	{ID: "w01-insert-one-order", SQL: "INSERT INTO orders " + orderCols + " VALUES (2001, 7, 1, 10.00, 'new', 'red', '2025-01-01 10:00:00', 1, 1.5, 'w01')",
		Check: "SELECT * FROM orders WHERE id = 2001"},
	{ID: "w02-insert-orders-all-shards", SQL: "INSERT INTO orders " + orderCols + " VALUES " +
		"(2002, 1, 2, 20.00, 'new', 'Blue ', '2025-01-02 00:00:00', 2, 2.25, NULL), " +
		"(2003, 2, NULL, 30.50, 'paid', NULL, '2025-01-03 00:00:00', 3, NULL, ''), " +
		"(2004, 3, 3, 40.75, 'shipped', 'RÈD', '2025-01-04 00:00:00', 4, 4.125, 'four'), " +
		"(2005, 4, 4, 50.00, 'new', 'green', '2025-01-05 00:00:00', 5, 5, 'five'), " +
		"(2006, 5, 5, 60.00, 'new', 'grün', '2025-01-06 00:00:00', 6, 6.5, NULL), " +
		"(2007, 6, 6, 70.00, 'paid', 'BLUE', '2025-01-07 00:00:00', 7, 7.75, 'seven'), " +
		"(2008, 200, 7, 80.00, 'paid', 'red', '2025-01-08 00:00:00', 8, 8, 'eight'), " +
		"(2009, 210, 8, 90.00, 'cancelled', NULL, '2025-01-09 00:00:00', 9, NULL, NULL)",
		Check: "SELECT id, user_id, tag FROM orders WHERE id > 2000"},
	{ID: "w03-insert-child-rows", SQL: "INSERT INTO order_items (id, order_id, product_id, qty, price) VALUES " +
		"(5001, 2001, 1, 2, 3.50), (5002, 2002, 2, 1, 9.99), (5003, 2005, 3, 4, 1.25), (5004, 1, 4, 1, 2.00), " +
		"(5005, 2008, 5, 1, 7.00), (5006, 1999, 6, 2, 8.00), (5007, 1901, 7, 3, 9.00), (5008, 2003, 8, 1, 0.01)",
		Check: "SELECT o.user_id, i.id FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.id > 5000"},
	{ID: "w04-insert-global-no-column-list", SQL: "INSERT INTO regions VALUES (21, 'Lapland', 'FI')",
		Check: "SELECT * FROM regions WHERE id = 21"},
	{ID: "w05-insert-single-node", SQL: "INSERT INTO users (id, name, email, region_id, created, balance) VALUES " +
		"(201, 'Newbie', NULL, 21, '2025-01-01', 0.00), (202, 'newbie ', 'n@example.com', NULL, '2025-01-02', NULL)"},
	{ID: "w06-insert-default-node", SQL: "INSERT INTO products (id, name, category, price, stock, origin_region) VALUES (101, 'Tiny Widget 101', 'tools', 1.00, 5, 21)"},
	{ID: "w07-insert-hash", SQL: "INSERT INTO accounts (code, owner, level, credit, opened) VALUES " +
		"('acc-0121', 'Newco', 1, 0.000, '2025-01-01'), ('acc-0122', 'newco', 2, NULL, '2025-01-02'), ('acc-0123', 'Third', 3, 3.333, '2025-01-03')",
		Check: "SELECT * FROM accounts WHERE code > 'acc-0120'"},
	{ID: "w08-insert-range", SQL: "INSERT INTO events (id, kind, value, amount, happened) VALUES " +
		"(1001, 'click', 5, 1.000, '2025-01-01 00:00:00'), (1002, 'VIEW', NULL, 2.500, '2025-01-02 00:00:00'), (0, 'zero', 0, 0.000, '2025-01-03 00:00:00')"},
	{ID: "w09-insert-date", SQL: "INSERT INTO visits (id, visit_date, user_id, pages, duration, source) VALUES " +
		"(401, '2026-03-01', 5, 3, 1.25, 'ads'), (402, '2024-02-29', 6, 1, NULL, NULL), (403, '2025-07-15', 7, 9, 0.5, 'email')"},
	{ID: "w10-insert-order-no-column-list", SQL: "INSERT INTO orders VALUES (2010, 9, NULL, 5.55, 'paid', NULL, '2025-02-01 00:00:00', 2, NULL, NULL)",
		Check: "SELECT * FROM orders WHERE user_id = 9"},
	{ID: "w11-insert-string-literal-key", SQL: "INSERT INTO orders " + orderCols + " VALUES (2011, '12', 1, 1.00, 'new', NULL, '2025-02-02 00:00:00', 1, NULL, NULL)",
		Check: "SELECT id FROM orders WHERE user_id = 12"},
	{ID: "w11b-insert-values-reading-global", SQL: "INSERT INTO orders " + orderCols + " VALUES (2014, 5, 1, (SELECT COUNT(*) FROM regions), 'new', NULL, '2025-02-03 00:00:00', 1, NULL, NULL)",
		Check: "SELECT * FROM orders WHERE id = 2014"},
	{ID: "w11c-insert-values-reading-sharded", SQL: "INSERT INTO orders " + orderCols + " VALUES (2015, 5, 1, (SELECT MAX(credit) FROM accounts), 'new', NULL, '2025-02-03 00:00:00', 1, NULL, NULL)",
		Refuse: true, RefuseWhy: []string{"sharded table accounts"}, Check: "SELECT * FROM orders WHERE id = 2015"},
	// upserts and replaces
	{ID: "w12-upsert-existing", SQL: "INSERT INTO orders " + orderCols + " VALUES (2001, 7, 1, 10.00, 'new', 'red', '2025-01-01 10:00:00', 1, 1.5, 'w01') " +
		"ON DUPLICATE KEY UPDATE amount = amount + 1, note = 'upserted'",
		Check: "SELECT * FROM orders WHERE id = 2001"},
	{ID: "w13-upsert-multi-shard", SQL: "INSERT INTO orders " + orderCols + " VALUES " +
		"(2002, 1, 2, 20.00, 'new', 'Blue ', '2025-01-02 00:00:00', 9, 2.25, NULL), " +
		"(2012, 8, 2, 21.00, 'new', NULL, '2025-01-12 00:00:00', 1, NULL, NULL), " +
		"(2007, 6, 6, 70.00, 'paid', 'BLUE', '2025-01-07 00:00:00', 1, 7.75, 'seven') " +
		"ON DUPLICATE KEY UPDATE qty = VALUES(qty)",
		Check: "SELECT id, qty FROM orders WHERE id IN (2002, 2007, 2012)"},
	{ID: "w14-upsert-unchanged", SQL: "INSERT INTO orders " + orderCols + " VALUES (2003, 2, NULL, 30.50, 'paid', NULL, '2025-01-03 00:00:00', 3, NULL, '') " +
		"ON DUPLICATE KEY UPDATE status = status"},
	{ID: "w15-insert-ignore", SQL: "INSERT IGNORE INTO orders " + orderCols + " VALUES " +
		"(2004, 3, 3, 1.00, 'new', NULL, '2025-01-04 00:00:00', 1, NULL, 'ignored'), (2013, 16, 3, 1.00, 'new', NULL, '2025-01-13 00:00:00', 1, NULL, 'kept')",
		Check: "SELECT id, note FROM orders WHERE id IN (2004, 2013)"},
	{ID: "w16-replace-order", SQL: "REPLACE INTO orders " + orderCols + " VALUES (2005, 4, 4, 55.00, 'paid', 'Green', '2025-01-05 12:00:00', 5, 5.5, 'replaced')",
		Check: "SELECT * FROM orders WHERE id = 2005"},
	{ID: "w17-replace-global", SQL: "REPLACE INTO regions (id, name, country) VALUES (21, 'Lappi', 'FI'), (22, 'Uusimaa', 'FI')"},
	{ID: "w18-replace-hash", SQL: "REPLACE INTO accounts VALUES ('acc-0121', 'Newco Oy', 3, 10.500, '2025-01-01', 'silver', 'bags,wifi')"},
	{ID: "w19-upsert-hash-other-case", SQL: "INSERT INTO accounts (code, owner, level, credit, opened) VALUES ('ACC-0122', 'NEWCO', 5, 1.000, '2025-02-02') " +
		"ON DUPLICATE KEY UPDATE level = VALUES(level)",
		Check: "SELECT code, owner, level FROM accounts WHERE code = 'acc-0122'"},
	// updates
	{ID: "w20-update-by-key", SQL: "UPDATE orders SET amount = amount + 1 WHERE user_id = 7 AND id = 4",
		Check: "SELECT id, amount FROM orders WHERE id = 4"},
	{ID: "w20b-update-last-insert-id", SQL: "UPDATE orders SET qty = LAST_INSERT_ID(qty + 1) WHERE user_id = 7 AND id = 4",
		Check: "SELECT id, qty FROM orders WHERE id = 4"},
	{ID: "w21-update-scatter", SQL: "UPDATE orders SET status = 'archived' WHERE created < '2024-01-15'",
		Check: "SELECT COUNT(*) FROM orders WHERE status = 'archived'"},
	{ID: "w22-update-unchanged", SQL: "UPDATE orders SET qty = qty WHERE user_id = 8"},
	{ID: "w23-update-by-id-no-key", SQL: "UPDATE orders SET note = CONCAT(IFNULL(note, ''), '!') WHERE id IN (1, 2, 3, 4, 5)",
		Check: "SELECT id, note FROM orders WHERE id <= 5"},
	{ID: "w24-update-multi-shard-in", SQL: "UPDATE orders SET score = NULL WHERE user_id IN (1, 2, 3, 4) AND score > 90"},
	{ID: "w25-update-single-shard-order-limit", SQL: "UPDATE orders SET amount = 0 WHERE user_id = 42 ORDER BY id LIMIT 2"},
	{ID: "w26-update-child-by-parent", SQL: "UPDATE order_items SET qty = qty + 1 WHERE order_id = 2001"},
	{ID: "w27-update-child-scatter", SQL: "UPDATE order_items SET price = price * 2 WHERE product_id = 7",
		Check: "SELECT COUNT(*), SUM(price) FROM order_items WHERE product_id = 7"},
	{ID: "w28-update-global", SQL: "UPDATE regions SET name = 'Nord' WHERE id = 1"},
	{ID: "w29-update-global-all", SQL: "UPDATE regions SET country = LOWER(country) WHERE country LIKE 'F%'"},
	{ID: "w29a-update-global-reading-single-node", SQL: "UPDATE regions SET name = (SELECT name FROM users WHERE id = 1) WHERE id = 1",
		Refuse: true, RefuseWhy: []string{"copies on other nodes"}, Check: "SELECT * FROM regions WHERE id = 1"},
	{ID: "w29a2-insert-global-selecting-single-node", SQL: "INSERT INTO regions (id, name, country) SELECT id + 1000, name, NULL FROM users WHERE id < 4",
		Check: "SELECT * FROM regions WHERE id > 1000"},
	{ID: "w29b-update-join-global", SQL: "UPDATE orders o JOIN regions r ON r.id = o.region_id SET o.tag = LEFT(r.name, 16), o.qty = o.qty + 1 WHERE o.user_id IN (7, 8) AND o.amount > 500",
		Check: "SELECT id, tag, qty FROM orders WHERE user_id IN (7, 8)"},
	{ID: "w29c-delete-join-global", SQL: "DELETE o FROM orders o JOIN regions r ON r.id = o.region_id WHERE r.id = 3 AND o.qty > 6", Check: "SELECT COUNT(*) FROM orders WHERE region_id = 3"},
	{ID: "w30-update-single-node", SQL: "UPDATE users SET balance = balance + 100 WHERE region_id = 5 AND balance IS NOT NULL"},
	{ID: "w31-update-single-node-limit", SQL: "UPDATE users SET balance = 0 ORDER BY id LIMIT 3"},
	{ID: "w32-update-hash-other-case", SQL: "UPDATE accounts SET credit = IFNULL(credit, 0) + 1 WHERE code = 'ACC-0005'",
		Check: "SELECT * FROM accounts WHERE code = 'acc-0005'"},
	{ID: "w33-update-range-span", SQL: "UPDATE events SET value = IFNULL(value, 0) + 1 WHERE id BETWEEN 245 AND 255"},
	{ID: "w34-update-date-range", SQL: "UPDATE visits SET pages = pages + 1 WHERE visit_date BETWEEN '2024-03-01' AND '2024-03-31'"},
	{ID: "w35-update-default-node", SQL: "UPDATE products SET stock = IFNULL(stock, 0) + 10 WHERE category = 'books'"},
	// updates of a column that places rows: the rows move between shards
	{ID: "w36-move-order", SQL: "UPDATE orders SET user_id = 8 WHERE id = 4",
		Check: "SELECT o.id, o.user_id, i.id FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = 4"}, // its items follow it
	{ID: "w37-move-child-by-lookup", SQL: "UPDATE order_items SET order_id = 2 WHERE id = 5", Check: "SELECT * FROM order_items WHERE id = 5"},
	{ID: "w38-move-hash-key", SQL: "UPDATE accounts SET code = 'acc-9000' WHERE code = 'acc-0002'", Check: "SELECT * FROM accounts WHERE code IN ('acc-0002', 'acc-9000')"},
	{ID: "w39-move-scatter-expression", SQL: "UPDATE orders SET user_id = user_id + 1, qty = qty + 1 WHERE status = 'returned'",
		Check: "SELECT o.id, o.user_id, o.qty, i.id, i.price FROM orders o LEFT JOIN order_items i ON i.order_id = o.id WHERE o.status = 'returned'"},
	{ID: "w39b-move-some-stay", SQL: "UPDATE orders SET user_id = user_id + 4, note = CONCAT(IFNULL(note, ''), '+') WHERE user_id BETWEEN 1 AND 3", Check: "SELECT id, user_id, note FROM orders WHERE note LIKE '%+'"},
	{ID: "w39c-move-and-stay-unchanged", SQL: "UPDATE orders SET user_id = 9 WHERE user_id IN (9, 10)", Check: "SELECT id, user_id FROM orders WHERE user_id IN (9, 10)"},
	{ID: "w39d-move-range-key", SQL: "UPDATE events SET id = id + 5000 WHERE id BETWEEN 10 AND 12", Check: "SELECT * FROM events WHERE id BETWEEN 10 AND 12 OR id BETWEEN 5010 AND 5012"},
	{ID: "w39e-move-date", SQL: "UPDATE visits SET visit_date = visit_date + INTERVAL 4 MONTH WHERE id <= 3", Check: "SELECT * FROM visits WHERE id <= 3"},
	{ID: "w39f-move-nothing-matched", SQL: "UPDATE orders SET user_id = 1 WHERE id = 999999"},
	{ID: "w39g-move-in-transaction-order", SQL: "UPDATE orders SET user_id = 3, amount = amount + 1 WHERE id IN (1, 2, 3) ORDER BY id", Check: "SELECT id, user_id, amount FROM orders WHERE id IN (1, 2, 3)"},
	// a child row cannot be placed without its parent row (MariaDB, without
	// a foreign key, accepts the orphan): refused as a foreign key would
	{ID: "w39h-move-child-no-parent", SQL: "UPDATE order_items SET order_id = 987654 WHERE id = 6", Refuse: true, RefuseCode: 1452,
		RefuseWhy: []string{"no parent row"}, Check: "SELECT * FROM order_items WHERE id = 6"},
	// errors both must report
	{ID: "w40-duplicate-key", SQL: "INSERT INTO orders " + orderCols + " VALUES (2001, 7, 1, 1.00, 'new', NULL, '2025-01-01 00:00:00', 1, NULL, NULL)", Error: true},
	{ID: "w41-duplicate-key-other-case", SQL: "INSERT INTO accounts (code, owner, level, credit, opened) VALUES ('ACC-0003', 'dup', 1, NULL, '2025-01-01')", Error: true,
		Check: "SELECT * FROM accounts WHERE code = 'acc-0003'"},
	{ID: "w42-unknown-column", SQL: "UPDATE orders SET nosuch = 1 WHERE user_id = 7", Error: true},
	// INSERT ... SELECT that no one server can run: the proxy copies the rows
	{ID: "w42a-insert-select-reshard", SQL: "INSERT INTO orders " + orderCols + " SELECT id + 10000, user_id + 1, region_id, amount, status, tag, created, qty, score, note FROM orders WHERE user_id BETWEEN 10 AND 20",
		Check: "SELECT user_id, COUNT(*), SUM(amount), SUM(score), MAX(note) FROM orders WHERE id > 10000 GROUP BY user_id"},
	{ID: "w42b-insert-select-aggregate-to-hash", SQL: "INSERT INTO accounts (code, owner, level, credit, opened) " +
		"SELECT CONCAT('u-', user_id), MAX(status), COUNT(*) % 100, SUM(amount), MIN(DATE(created)) FROM orders GROUP BY user_id",
		Check: "SELECT * FROM accounts WHERE code LIKE 'u-%'"},
	{ID: "w42c-insert-select-to-default-node", SQL: "INSERT INTO products (id, name, category, price, stock, origin_region) " +
		"SELECT 1000 + id, CONCAT('from order ', id, ' ', IFNULL(note, '-'), ' \\ it''s'), status, amount, qty, region_id FROM orders WHERE amount > 900 ORDER BY amount DESC, id LIMIT 20",
		Check: "SELECT * FROM products WHERE id > 1000"},
	{ID: "w42d-insert-select-to-global", SQL: "INSERT INTO regions (id, name, country) SELECT 100 + region_id, MAX(status), NULL FROM orders WHERE region_id IS NOT NULL GROUP BY region_id",
		Check: "SELECT * FROM regions WHERE id > 100"},
	{ID: "w42e-insert-select-child-by-parent", SQL: "INSERT INTO order_items (id, order_id, product_id, qty, price) SELECT id + 90000, id, 1, qty, amount FROM orders WHERE user_id IN (11, 12) OR id BETWEEN 10010 AND 10020",
		Check: "SELECT o.user_id, i.id, i.price FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.id > 90000"},
	{ID: "w42f-insert-select-upsert", SQL: "INSERT INTO accounts (code, owner, level, credit, opened) SELECT code, UPPER(owner), level + 1, credit, opened FROM accounts WHERE level = 2 " +
		"ON DUPLICATE KEY UPDATE level = VALUES(level), owner = VALUES(owner)",
		Check: "SELECT * FROM accounts WHERE level = 3"},
	{ID: "w42g-insert-ignore-select", SQL: "INSERT IGNORE INTO orders " + orderCols + " SELECT id + (id % 2) * 20000, user_id, region_id, amount, status, tag, created, qty, score, note FROM orders WHERE user_id = 7",
		Check: "SELECT id, user_id FROM orders WHERE id > 20000"},
	{ID: "w42h-replace-select-global", SQL: "REPLACE INTO regions SELECT id, UPPER(name), country FROM regions WHERE id <= 3",
		Check: "SELECT * FROM regions"},
	{ID: "w42i-insert-select-nothing", SQL: "INSERT INTO orders " + orderCols + " SELECT * FROM orders WHERE user_id = 987654"},
	{ID: "w42j-insert-select-column-count", SQL: "INSERT INTO orders (id, user_id) SELECT id FROM orders WHERE user_id = 3", Error: true},
	{ID: "w42k-insert-select-duplicate", SQL: "INSERT INTO accounts SELECT * FROM accounts WHERE level = 1", Error: true},
	{ID: "w42l-insert-select-float", SQL: "INSERT INTO orders " + orderCols + " SELECT id + 40000, user_id, region_id, amount, status, tag, created, qty, CAST(score AS FLOAT), note FROM orders WHERE user_id = 5",
		Refuse: true, RefuseWhy: []string{"float"}},
	{ID: "w42m-no-backslash-escapes", SQL: "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')"},
	{ID: "w42n-insert-select-literal-backslash", SQL: "INSERT INTO products (id, name, category, price, stock, origin_region) " +
		"SELECT 2000 + id, CONCAT('raw \\ ', id, ' it''s'), status, amount, qty, region_id FROM orders WHERE amount > 950",
		Check: "SELECT * FROM products WHERE id > 2000"},
	{ID: "w42o-escapes-back", SQL: "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')"},
	// deletes
	{ID: "w43-delete-by-key", SQL: "DELETE FROM orders WHERE user_id = 99 AND qty = 1"},
	{ID: "w44-delete-child-by-parent", SQL: "DELETE FROM order_items WHERE order_id = 10"},
	{ID: "w45-delete-child-by-id", SQL: "DELETE FROM order_items WHERE id = 4321"},
	{ID: "w46-delete-scatter", SQL: "DELETE FROM orders WHERE status = 'returned' AND amount < 100"},
	{ID: "w47-delete-by-id-no-key", SQL: "DELETE FROM orders WHERE id = 2010"},
	{ID: "w48-delete-global", SQL: "DELETE FROM regions WHERE id = 22"},
	{ID: "w49-delete-single-node", SQL: "DELETE FROM users WHERE id = 202"},
	{ID: "w50-delete-default-node", SQL: "DELETE FROM products WHERE id = 101"},
	{ID: "w51-delete-hash-in", SQL: "DELETE FROM accounts WHERE code IN ('acc-0122', 'acc-0001')"},
	{ID: "w52-delete-range", SQL: "DELETE FROM events WHERE id > 990 OR id = 0"},
	{ID: "w53-delete-date", SQL: "DELETE FROM visits WHERE visit_date < '2024-01-10'"},
	{ID: "w54-delete-nothing", SQL: "DELETE FROM orders WHERE user_id = 999"},
	{ID: "w55-delete-order-limit", SQL: "DELETE FROM orders WHERE user_id = 8 ORDER BY amount DESC, id LIMIT 3"},
	// ORDER BY and LIMIT across shards: the keys of the first rows read
	// first (locked), then those rows written
	{ID: "w55b-update-order-limit-shards", SQL: "UPDATE orders SET tag = 'w55b' WHERE qty > 3 ORDER BY amount DESC, id LIMIT 7",
		Check: "SELECT id, user_id, amount FROM orders WHERE tag = 'w55b'"},
	{ID: "w55c-delete-order-limit-shards", SQL: "DELETE FROM order_items WHERE qty < 3 ORDER BY price, id LIMIT 4",
		Check: "SELECT COUNT(*), SUM(price) FROM order_items"},
	{ID: "w55d-update-order-limit-none", SQL: "UPDATE events SET amount = 0 WHERE value > 100000 ORDER BY happened, id LIMIT 2"},
	{ID: "w55e-update-global-order-limit", SQL: "UPDATE regions SET name = CONCAT(name, '+') ORDER BY id DESC LIMIT 2",
		Check: "SELECT * FROM regions"},
	// subqueries the proxy runs first (another node's table, or several
	// shards), read with shared locks in the write's transaction
	{ID: "w56-update-in-pulled", SQL: "UPDATE orders SET tag = 'w56' WHERE user_id IN (SELECT id FROM users WHERE region_id = 3)",
		Check: "SELECT id, user_id, tag FROM orders WHERE tag = 'w56'"},
	{ID: "w57-delete-in-pulled", SQL: "DELETE FROM order_items WHERE product_id IN (SELECT id FROM products WHERE category = 'toys') AND qty = 1",
		Check: "SELECT COUNT(*), SUM(qty) FROM order_items"},
	{ID: "w58-update-scalar-pulled", SQL: "UPDATE orders SET qty = qty + 1 WHERE amount > (SELECT AVG(price) * 1.5 FROM products) AND user_id < 50",
		Check: "SELECT SUM(qty), COUNT(*) FROM orders"},
	{ID: "w59-delete-not-in-pulled", SQL: "DELETE FROM orders WHERE user_id NOT IN (SELECT id FROM users) AND status = 'new'",
		Check: "SELECT user_id, COUNT(*) FROM orders WHERE user_id > 200 GROUP BY user_id"},
	{ID: "w60-update-single-from-shards", SQL: "UPDATE users SET balance = 0 WHERE id IN (SELECT user_id FROM orders WHERE amount > 990)",
		Check: "SELECT id, balance FROM users WHERE balance = 0"},
	{ID: "w61-delete-scalar-none", SQL: "DELETE FROM events WHERE id = (SELECT MAX(qty) FROM orders WHERE user_id = 999)",
		Check: "SELECT COUNT(*) FROM events"},
	{ID: "w62-update-exists-pulled", SQL: "UPDATE accounts SET level = level + 1 WHERE EXISTS (SELECT 1 FROM users WHERE balance > 9000) AND code LIKE 'acc-00%'",
		Check: "SELECT code, level FROM accounts WHERE code LIKE 'acc-00%'"},
	{ID: "w63a-insert-select-pulled", SQL: "INSERT INTO regions (id, name, country) SELECT 900 + id, name, country FROM regions WHERE id IN (SELECT region_id FROM users WHERE id < 20)",
		Check: "SELECT * FROM regions WHERE id > 900"},
	{ID: "w63b-insert-select-shards-pulled", SQL: "INSERT INTO events (id, kind, value, amount, happened) SELECT 5000 + id, 'w63b', qty, amount, created FROM orders WHERE user_id = 42 AND amount > (SELECT AVG(price) FROM products)",
		Check: "SELECT * FROM events WHERE kind = 'w63b'"},
	{ID: "w63-update-correlated", SQL: "UPDATE orders o SET tag = 'w63' WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id AND u.region_id = 4)",
		Refuse: true, RefuseWhy: []string{"cross-node"}, Check: "SELECT COUNT(*) FROM orders WHERE tag = 'w63'"},
	// A join with tables of other nodes than the table written: read first, locked.
	{ID: "w64-update-join-other-node", SQL: "UPDATE users u JOIN products p ON p.id = u.id SET u.balance = p.price + u.id WHERE u.id < 30 AND p.category = 'books'",
		Check: "SELECT id, balance FROM users WHERE id < 30"},
	{ID: "w65-delete-join-other-node", SQL: "DELETE u FROM users u JOIN products p ON p.id = u.id WHERE p.price < 20 AND u.id > 150",
		Check: "SELECT id FROM users"},
	{ID: "w66-update-shards-join-single", SQL: "UPDATE orders o JOIN users u ON u.id = o.user_id SET o.tag = LEFT(u.name, 16), o.qty = o.qty + 1 WHERE u.region_id = 4",
		Check: "SELECT id, tag, qty FROM orders WHERE user_id IN (SELECT id FROM users WHERE region_id = 4)"},
	{ID: "w67-update-left-join-none", SQL: "UPDATE users u LEFT JOIN products p ON p.id = u.id AND p.price > 10000 SET u.email = IFNULL(p.name, 'none') WHERE u.id BETWEEN 40 AND 44",
		Check: "SELECT id, email FROM users WHERE id BETWEEN 40 AND 44"},
	// An INSERT ... SELECT joining tables of two nodes: the SELECT's tables
	// off its node read first (locked), the rows copied where they go.
	{ID: "w68-insert-select-join-other-node", SQL: "INSERT INTO orders (id, user_id, region_id, amount, status, created, qty) SELECT 960000 + u.id, u.id, u.region_id, p.price, 'w68', '2024-06-01', 1 FROM users u JOIN products p ON p.id = u.id WHERE u.id < 25 AND p.price > 50",
		Check: "SELECT * FROM orders WHERE status = 'w68'"},
	{ID: "w69-insert-select-join-into-read-node", SQL: "INSERT INTO products (id, name, category, price) SELECT 970000 + p.id, CONCAT(LEFT(p.name, 20), '/', LEFT(u.name, 20)), 'w69', p.price FROM products p LEFT JOIN users u ON u.id = p.id WHERE p.id BETWEEN 3 AND 12 ORDER BY p.id DESC LIMIT 6",
		Check: "SELECT id, name, price FROM products WHERE category = 'w69'"},
	{ID: "w70-insert-select-join-global", SQL: "INSERT INTO regions (id, name, country) SELECT 2980 + u.id, LEFT(u.name, 20), 'w7' FROM users u JOIN products p ON p.id = u.id WHERE u.id BETWEEN 5 AND 9",
		Check: "SELECT * FROM regions WHERE country = 'w7'"},
}

func shopDir() string { return filepath.Join("testdata", "shop") }

// openOracle (re)creates database `name` on the oracle server and returns a
// handle on it.
func openOracle(t testing.TB, name string) *sql.DB {
	t.Helper()
	admin := Open(t, DSN("sg", "sg", oracleAddr, ""))
	MustExec(t, admin, "DROP DATABASE IF EXISTS "+name,
		"CREATE DATABASE "+name+" DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
	db := Open(t, DSN("sg", "sg", oracleAddr, name))
	db.SetMaxOpenConns(4)
	return db
}

// loadOracle creates the schema and loads the data set into an oracle database.
func loadOracle(t testing.TB, db *sql.DB) {
	t.Helper()
	if err := execAll(db, splitSQLFile(t, filepath.Join(shopDir(), "schema.sql"))); err != nil {
		t.Fatalf("oracle schema: %v", err)
	}
	if err := execAll(db, splitSQLFile(t, filepath.Join(shopDir(), "data.sql"))); err != nil {
		t.Fatalf("oracle data: %v", err)
	}
}

// tally counts verdicts and remembers the failed ids by category.
type tally struct {
	passed, failed, refused int
	failedIDs               map[string][]string
}

func (c *tally) add(id string, v verdict) {
	switch v {
	case passed:
		c.passed++
	case refused:
		c.refused++
	default:
		c.failed++
		if c.failedIDs == nil {
			c.failedIDs = map[string][]string{}
		}
		cat := id // the letters before the first digit: pt, jn, meta, w ...
		if i := strings.IndexAny(id, "0123456789"); i > 0 {
			cat = id[:i]
		}
		c.failedIDs[cat] = append(c.failedIDs[cat], id)
	}
}

func (c *tally) String() string {
	s := fmt.Sprintf("passed %d, failed %d, refused (out of scope) %d", c.passed, c.failed, c.refused)
	cats := make([]string, 0, len(c.failedIDs))
	for k := range c.failedIDs {
		cats = append(cats, k)
	}
	sort.Strings(cats)
	for _, k := range cats {
		s += fmt.Sprintf("\n  %-5s %3d failed: %s", k, len(c.failedIDs[k]), strings.Join(c.failedIDs[k], " "))
	}
	return s
}

func TestSharding(t *testing.T) { runShardingSuite(t, shopConfig, true) }

// TestShardingOneHost runs the suite with both data nodes on one data host
// (two databases of one server): a transaction then holds one connection
// for both, and each statement a query sends it runs there in turn.
func TestShardingOneHost(t *testing.T) {
	cfg := strings.Replace(shopConfig, "  - {name: dn1, host: dh1, database: shop_1}", "  - {name: dn1, host: dh0, database: shop_1}", 1)
	runShardingSuite(t, cfg, false)
}

// controlConfig serves schema shop unsharded from one physical database: the
// control run of the suite (TestShardingControl), which tells harness and
// protocol problems apart from sharding ones.
const controlConfig = `
listen: {{LISTEN}}
users:
  - {name: app, password: app, schemas: [shop]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: 127.0.0.1:13306, replicas: [{addr: 127.0.0.1:13316, weight: 1}]}
data_nodes:
  - {name: dnc, host: dh0, database: shop_control}
schemas:
  - {name: shop, default_node: dnc}
`

// TestShardingControl runs the whole suite through an unsharded pass-through
// schema (opt-in: SG_SHARDING_CONTROL=1). Every shape should pass there.
func TestShardingControl(t *testing.T) {
	if os.Getenv("SG_SHARDING_CONTROL") == "" {
		t.Skip("set SG_SHARDING_CONTROL=1 to run the suite through an unsharded schema")
	}
	MustExec(t, Open(t, DSN("sg", "sg", dh0Primary, "")), "CREATE DATABASE IF NOT EXISTS shop_control")
	runShardingSuite(t, controlConfig, false)
}

// runShardingSuite runs the suite through a proxy started with config (which
// must serve schema shop to user app/app). physical (shopConfig only): also
// check the physical tables on the data nodes against DESIGN.md's placement,
// and expect the refusals of sharding-column updates (skipped otherwise).
func runShardingSuite(t *testing.T, config string, physical bool) {
	queries := loadQueries(t, filepath.Join(shopDir(), "queries.txt"))
	if len(queries) < 150 {
		t.Fatalf("only %d query shapes", len(queries))
	}
	cfg := strings.ReplaceAll(config, "{{ADMIN}}", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	p := StartProxy(t, cfg)
	proxy := Open(t, DSN("app", "app", p.Addr, "shop"))
	proxy.SetMaxOpenConns(4)
	oracle := openOracle(t, "shop")
	defer func() {
		if t.Failed() {
			t.Logf("proxy log (tail):\n%s", tail(p.Log(), 60))
		}
	}()

	// Start clean, then create and drop once more: DROP TABLE IF EXISTS
	// through the proxy must drop every physical table, and CREATE TABLE
	// must create them all where DESIGN.md says.
	schema := splitSQLFile(t, filepath.Join(shopDir(), "schema.sql"))
	t.Run("reset", func(t *testing.T) {
		if err := dropAll(proxy); err != nil {
			t.Errorf("through the proxy: %v", err)
		}
		if physical {
			checkNoPhysical(t, "after DROP TABLE IF EXISTS through the proxy")
		}
	})
	t.Run("create-drop", func(t *testing.T) {
		if err := execAll(proxy, schema); err != nil {
			t.Errorf("schema.sql through the proxy: %v", err)
			return
		}
		if physical {
			checkPhysicalLayout(t)
		}
		if err := dropAll(proxy); err != nil {
			t.Errorf("through the proxy: %v", err)
		}
		if physical {
			checkNoPhysical(t, "after DROP TABLE IF EXISTS through the proxy")
		}
	})

	// Create and load through both.
	loadedOK := t.Run("load", func(t *testing.T) {
		loadOracle(t, oracle)
		if err := execAll(proxy, schema); err != nil {
			t.Errorf("schema.sql through the proxy: %v", err)
			return
		}
		if err := execAll(proxy, splitSQLFile(t, filepath.Join(shopDir(), "data.sql"))); err != nil {
			t.Errorf("data.sql through the proxy: %v", err)
		}
	})
	t.Run("placement", func(t *testing.T) {
		if !loadedOK || !physical {
			t.Skip("load failed or no physical checks")
		}
		checkShardCounts(t, oracle)
	})
	waitReplicas(t)
	t.Run("loaded", func(t *testing.T) { compareTables(t, proxy, oracle) })
	t.Run("dump", func(t *testing.T) { compareDumps(t, p.Addr) })

	var qt tally
	passedOutside := map[string]bool{}
	t.Run("query", func(t *testing.T) {
		for _, q := range queries {
			t.Run(q.ID, func(t *testing.T) {
				got, want := runQuery(proxy, q.SQL), runQuery(oracle, q.SQL)
				v, why := judge(q, got, want)
				if v == passed {
					// Again: now planned from the plan cache.
					v, why = judge(q, runQuery(proxy, q.SQL), want)
				}
				qt.add(q.ID, v)
				passedOutside[q.ID] = v == passed
				switch v {
				case failed:
					t.Errorf("%s (queries.txt:%d)\n  SQL: %s\n  %s", q.ID, q.Line, q.SQL, why)
				case refused:
					t.Logf("refused (out of scope): %v", got.Err)
				}
			})
		}
	})
	t.Logf("query shapes: %s", &qt)

	// Inside a transaction every node keeps one connection: the shards a
	// query finds on it (several tables', several nodes' on one host) run
	// in turn there. Each shape runs first in a transaction, then again
	// in the same one (its connections now held), each answer the
	// oracle's. (Shapes refused or failing outside are left to "query".)
	t.Run("in-transaction", func(t *testing.T) {
		for _, q := range queries {
			if !passedOutside[q.ID] {
				continue
			}
			tx, err := proxy.Begin()
			if err != nil {
				t.Fatal(err)
			}
			want := runQuery(oracle, q.SQL)
			for run := 1; run <= 2; run++ {
				if v, why := judge(q, runQuery(tx, q.SQL), want); v != passed {
					t.Errorf("%s (queries.txt:%d), run %d in one transaction\n  SQL: %s\n  %s", q.ID, q.Line, run, q.SQL, why)
				}
			}
			if err := tx.Rollback(); err != nil {
				t.Errorf("%s: rollback: %v", q.ID, err)
			}
		}
	})

	// The plan cache keys a statement by its text with the literals taken
	// out, so a shape run again with other values is planned from the
	// first one's template. Each passing shape runs with its integer
	// literals moved (n+1, then n+3: another shard under mod 4, another
	// LIMIT, another column position), then with its strings upper-cased
	// and padded (equal under utf8mb4_general_ci, so the same shard of a
	// hashed string), first from the cache, then with a comment that makes
	// it a new template; both must be the oracle's.
	t.Run("literal-variants", func(t *testing.T) {
		for _, q := range queries {
			if !passedOutside[q.ID] {
				continue
			}
			for _, k := range []int{1, 3, -1} {
				text, moved := movedLiterals(q.SQL, k)
				if !moved {
					continue
				}
				want := runQuery(oracle, text)
				// Moved, a failing shape may pass and a passing one fail:
				// then the code must be the server's.
				vq := q
				vq.Error, vq.AnyMessage = want.Err != nil, true
				for _, how := range []string{"from the plan cache", "planned afresh"} {
					run := text
					if how == "planned afresh" {
						run = "/* afresh */ " + text
					}
					if v, why := judge(vq, runQuery(proxy, run), want); v == failed {
						t.Errorf("%s (queries.txt:%d) +%d, %s\n  SQL: %s\n  %s", q.ID, q.Line, k, how, run, why)
					}
				}
			}
		}
	})

	// Every passing shape again under other session settings that change
	// parsing or results, set on both sides: the proxy parses and rewrites
	// by the session's sql_mode (ANSI's quotes and ||, backslashes taken
	// literally, no strictness, ONLY_FULL_GROUP_BY) and must carry the
	// rest to the shards or apply it to what it merges.
	t.Run("session-settings", func(t *testing.T) {
		for _, set := range []string{
			"SET SESSION sql_mode = 'ANSI'",
			"SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'",
			"SET SESSION sql_mode = ''",
			"SET SESSION sql_mode = 'ONLY_FULL_GROUP_BY,STRICT_ALL_TABLES,PAD_CHAR_TO_FULL_LENGTH'",
			"SET NAMES utf8mb3",
			"SET NAMES latin1", // columns keep their collations; the rows come as latin1
			"SET collation_connection = utf8mb4_bin",
			"SET time_zone = '+05:30'",
			"SET div_precision_increment = 8",
			"SET div_precision_increment = 0",
			"SET sql_select_limit = 3", // across shards: refused (1235), never wrong
			"SET group_concat_max_len = 7",
		} {
			pc, oc := Conn(t, proxy), Conn(t, oracle)
			for _, c := range []*sql.Conn{pc, oc} {
				if _, err := c.ExecContext(context.Background(), set); err != nil {
					t.Fatalf("%s: %v", set, err)
				}
			}
			var tl tally
			for _, q := range queries {
				if !passedOutside[q.ID] || q.Meta {
					continue
				}
				want := runQuery(oc, q.SQL)
				vq := q
				vq.Error, vq.AnyMessage = want.Err != nil, true
				got := runQuery(pc, q.SQL)
				limited := strings.Contains(set, "sql_select_limit")
				if limited && isRefusal(got.Err) {
					tl.add(q.ID, refused) // the honest answer across shards
					continue
				}
				v, why := judge(vq, got, want)
				if limited && !q.Ordered && v == failed && got.Err == nil && want.Err == nil {
					// Unordered, any rows up to the limit will do: as many
					// as the oracle's, each one of the whole answer's.
					v, why = limitedRows(got, want, runQuery(oracle, q.SQL))
				}
				tl.add(q.ID, v)
				if v == failed {
					t.Errorf("%s (queries.txt:%d) after %s\n  SQL: %s\n  %s", q.ID, q.Line, set, q.SQL, why)
				}
			}
			t.Logf("after %s: %s", set, &tl)
			// The pools would hand these connections on: close them for good.
			for _, c := range []*sql.Conn{pc, oc} {
				c.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
	})

	// SHOW WARNINGS and the like after shapes with warnings and errors.
	t.Run("diagnostics", func(t *testing.T) { testDiagnostics(t, proxy, oracle) })

	// The same shapes as prepared statements, literals as parameters.
	var pt tally
	t.Run("prepared", func(t *testing.T) { pt = runPreparedShapes(t, queries, proxy, oracle) })
	t.Logf("prepared query shapes: %s", &pt)
	t.Run("prepared-in-transaction", func(t *testing.T) {
		tx, err := proxy.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if it := runPreparedShapes(t, queries, tx, oracle); it.failed != 0 || it.passed != pt.passed {
			t.Errorf("prepared shapes in one transaction: %s; outside: %s", &it, &pt)
		}
	})

	// Shapes run with one value after another: the plan cache compiles a
	// template from the first values and serves the later ones it fits (a
	// range layout: bounds in one shard; mod: bounds over every shard,
	// merged), the planner the rest. Each answer must be the oracle's.
	t.Run("template-values", func(t *testing.T) {
		rangeBounds := [][]any{{240, 260}, {10, 20}, {260, 300}, {800, 990}, {300, 200}, {495, 505}, {750, 750}, {0, 1000}}
		modBounds := [][]any{{1, 100}, {3, 3}, {2, 200}, {5, 6}, {20, 10}, {-100, 1000}, {7, 7}, {0, 50}}
		shapes := []struct {
			sql  string
			args [][]any
		}{
			{"SELECT id, kind, value FROM events WHERE id BETWEEN ? AND ? ORDER BY id", rangeBounds},
			{"SELECT COUNT(*), SUM(value), MIN(kind) FROM events WHERE id BETWEEN ? AND ?", rangeBounds},
			{"SELECT id, user_id, amount FROM orders WHERE user_id BETWEEN ? AND ? ORDER BY amount, id", modBounds},
			{"SELECT status, COUNT(*), SUM(amount), AVG(qty) FROM orders WHERE user_id BETWEEN ? AND ? GROUP BY status ORDER BY status", modBounds},
			{"SELECT DISTINCT status FROM orders WHERE user_id BETWEEN ? AND ? ORDER BY status", modBounds},
			{"SELECT COUNT(*), MAX(amount) FROM orders WHERE status = ? AND qty > ?", [][]any{{"paid", 1}, {"new", 0}, {"shipped", 2}, {"nothing", 0}}},
		}
		for _, shape := range shapes {
			for _, args := range shape.args {
				text := withLiterals(shape.sql, args)
				want := runQuery(oracle, text)
				if want.Err != nil {
					t.Fatalf("oracle: %s: %v", text, want.Err)
				}
				if diff := compareResults(runQuery(proxy, text), want, true); diff != "" {
					t.Errorf("%s\n  %s", text, diff)
				}
				if diff := compareResults(runPrepared(proxy, shape.sql, args), want, true); diff != "" {
					t.Errorf("prepared %s with %v\n  %s", shape.sql, args, diff)
				}
			}
		}
		// In a transaction, a node's shards answer in one UNION ALL, whose
		// column definitions lose their tables and flags: the client must
		// still see what the shards' own statements give (outside one).
		c, err := client.Connect(p.Addr, "app", "app", "shop")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, shape := range shapes {
			text := withLiterals(shape.sql, shape.args[0])
			var first string
			for run := 0; run < 3; run++ {
				if run == 1 {
					if _, err := c.Execute("BEGIN"); err != nil {
						t.Fatal(err)
					}
				}
				r, err := c.Execute(text)
				if err != nil {
					t.Fatalf("%s: %v", text, err)
				}
				defs := fieldsText(r.Fields)
				r.Close()
				if run == 0 {
					first = defs
				} else if defs != first {
					t.Errorf("%s: run %d shows the columns\n  %s\nthe first showed\n  %s", text, run+1, defs, first)
				}
			}
			if _, err := c.Execute("COMMIT"); err != nil {
				t.Error(err)
			}
		}
	})

	// Statements nobody listed: seeded, so a failure comes back the same.
	t.Run("random", func(t *testing.T) {
		for _, seed := range randomSeeds() {
			runRandomShapes(t, proxy, oracle, seed, 400)
		}
	})

	var wt tally
	t.Run("write", func(t *testing.T) {
		pc, oc := Conn(t, proxy), Conn(t, oracle)
		for _, w := range shopWrites {
			t.Run(w.ID, func(t *testing.T) {
				if w.Refuse && !physical {
					t.Skip("no sharding column in an unsharded schema")
				}
				v, why := runWrite(t, w, pc, oc)
				wt.add(w.ID, v)
				if v == failed {
					t.Errorf("%s\n  SQL: %s\n  %s", w.ID, w.SQL, why)
				}
				if w.Check != "" {
					// Same session: read-your-writes, replicas or not.
					cq := queryCase{ID: w.ID + "-check", SQL: w.Check}
					if v, why := judge(cq, runQuery(pc, w.Check), runQuery(oc, w.Check)); v != passed {
						t.Errorf("after %s, check query differs\n  SQL: %s\n  %s", w.ID, w.Check, why)
					}
				}
			})
		}
	})
	t.Logf("writes: %s", &wt)

	// In a transaction, a write that fails on one shard is undone on all
	// (MariaDB rolls a failed statement back whole) and the transaction
	// goes on: what it commits must be the oracle's.
	t.Run("write-atomic-in-transaction", func(t *testing.T) {
		pc, oc := Conn(t, proxy), Conn(t, oracle)
		steps := []struct {
			sql  string
			fail bool
		}{
			{"BEGIN", false},
			{"INSERT INTO orders " + orderCols + " VALUES (3001, 1, 1, 1.00, 'new', NULL, '2025-03-01 00:00:00', 1, NULL, 'atomic'), " +
				"(3002, 2, 1, 1.00, 'new', NULL, '2025-03-01 00:00:00', 1, NULL, 'atomic'), (2001, 7, 1, 1.00, 'dup', NULL, '2025-03-01 00:00:00', 1, NULL, NULL)", true},
			{"UPDATE orders SET qty = IF(user_id = 3, NULL, qty + 1) WHERE user_id IN (1, 2, 3, 4)", true},
			{"UPDATE orders SET user_id = user_id + 1, qty = IF(id > 1500, NULL, qty) WHERE user_id IN (5, 6)", true},
			{"INSERT INTO orders " + orderCols + " SELECT id + 50000, user_id, region_id, amount, status, tag, created, qty, score, note FROM orders WHERE user_id IN (1, 2) " +
				"UNION ALL SELECT * FROM orders WHERE id = 2001", true},
			{"INSERT INTO orders " + orderCols + " SELECT id + 60000, user_id + 1, region_id, amount, status, tag, created, qty, score, 'copied' FROM orders WHERE user_id IN (1, 2)", false},
			{"INSERT INTO orders " + orderCols + " VALUES (3003, 1, 1, 1.00, 'new', NULL, '2025-03-01 00:00:00', 1, NULL, 'kept'), " +
				"(3004, 2, 1, 1.00, 'new', NULL, '2025-03-01 00:00:00', 1, NULL, 'kept')", false},
			{"COMMIT", false},
		}
		for _, st := range steps {
			_, oerr := oc.ExecContext(context.Background(), st.sql)
			_, perr := pc.ExecContext(context.Background(), st.sql)
			if (oerr != nil) != st.fail {
				t.Fatalf("test bug: on the oracle %s gave %v", st.sql, oerr)
			}
			if oc, _ := errInfo(oerr); oc != func() uint16 { c, _ := errInfo(perr); return c }() {
				t.Errorf("%s: proxy %v, oracle %v", st.sql, perr, oerr)
			}
		}
		q := "SELECT id, user_id, qty, note FROM orders WHERE id >= 3001 OR user_id BETWEEN 1 AND 8 ORDER BY id"
		if d := compareResults(runQuery(pc, q), runQuery(oc, q), true); d != "" {
			t.Errorf("after the transaction: %s", d)
		}
	})

	t.Run("random-writes", func(t *testing.T) {
		for _, seed := range randomSeeds() {
			runRandomWrites(t, proxy, oracle, seed, 200)
		}
	})

	waitReplicas(t)
	t.Run("final", func(t *testing.T) {
		compareTables(t, proxy, oracle)
		// Every child row is still on its parent's shard (moved rows took
		// theirs along): joined per shard, the proxy's answer is whole.
		q := "SELECT o.user_id, COUNT(*), SUM(i.price) FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY o.user_id"
		if v, why := judge(queryCase{ID: "colocated", SQL: q}, runQuery(proxy, q), runQuery(oracle, q)); v != passed {
			t.Errorf("orders joined with their items differ (a child row left behind?): %s", why)
		}
		if !physical {
			return
		}
		// every copy of the global table is the oracle's
		for _, node := range physicalNodes {
			direct := Open(t, DSN("sg", "sg", node.addr, node.db))
			q := "SELECT * FROM regions ORDER BY id"
			got := runQuery(direct, q)
			if got.Err != nil {
				t.Errorf("global table regions on %s/%s: %v", node.addr, node.db, got.Err)
			} else if d := compareResults(got, runQuery(oracle, q), true); d != "" {
				t.Errorf("global table regions on %s/%s differs from the oracle (\"proxy\" = that copy): %s", node.addr, node.db, d)
			}
		}
	})
	t.Logf("SUMMARY query shapes: %s", &qt)
	t.Logf("SUMMARY prepared query shapes: %s", &pt)
	t.Logf("SUMMARY writes: %s", &wt)
}

// limitedRows judges an unordered answer under sql_select_limit: the
// server returns any rows of the whole answer (full), as many as want.
func limitedRows(got, want, full result) (verdict, string) {
	if len(got.Rows) != len(want.Rows) {
		return failed, fmt.Sprintf("under sql_select_limit: %d rows, the oracle %d", len(got.Rows), len(want.Rows))
	}
	left := map[string]int{}
	for _, r := range full.Rows {
		left[strings.Join(r, "\x00")]++
	}
	for _, r := range got.Rows {
		k := strings.Join(r, "\x00")
		if left[k] == 0 {
			return failed, fmt.Sprintf("under sql_select_limit: row %q is not in the whole answer", r)
		}
		left[k]--
	}
	return passed, ""
}

// dropAll drops every logical table of the suite (one statement each).
func dropAll(q queryer) error {
	for i := len(shopTables) - 1; i >= 0; i-- {
		if err := execAll(q, []string{"DROP TABLE IF EXISTS " + shopTables[i].name}); err != nil {
			return err
		}
	}
	return nil
}

var physicalNodes = []struct{ addr, db string }{{dh0Primary, "shop_0"}, {dh1Primary, "shop_1"}}

// checkNoPhysical fails if a physical table of the suite is left on a data
// node, and then drops it directly so that the rest of the run starts clean.
func checkNoPhysical(t *testing.T, when string) {
	t.Helper()
	for _, node := range physicalNodes {
		for _, tb := range physicalTables(t, node.addr, node.db) {
			if isShopPhysical(tb) {
				t.Errorf("physical table %s.%s still exists %s", node.db, tb, when)
				MustExec(t, Open(t, DSN("sg", "sg", node.addr, "")), "DROP TABLE IF EXISTS `"+node.db+"`.`"+tb+"`")
			}
		}
	}
}

// checkPhysicalLayout compares the physical tables of each data node with wantPhysical.
func checkPhysicalLayout(t *testing.T) {
	t.Helper()
	for _, node := range physicalNodes {
		var got []string
		for _, tb := range physicalTables(t, node.addr, node.db) {
			if isShopPhysical(tb) {
				got = append(got, tb)
			}
		}
		sort.Strings(got)
		want := append([]string(nil), wantPhysical[node.db]...)
		sort.Strings(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("physical tables of %s on %s:\n  got  %v\n  want %v", node.db, node.addr, got, want)
		}
	}
}

// runWrite runs one write through the proxy and on the oracle and compares.
func runWrite(t *testing.T, w writeCase, pc, oc *sql.Conn) (verdict, string) {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	if w.Refuse {
		// The oracle accepts it (in a transaction rolled back, so that both stay equal).
		tx, err := oc.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tx.ExecContext(ctx, w.SQL)
		if rbErr := tx.Rollback(); rbErr != nil {
			t.Fatal(rbErr)
		}
		if err != nil {
			return failed, fmt.Sprintf("test bug: the oracle refused a write the proxy must refuse: %v", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return failed, "test bug: on the oracle the refused write changes no row"
		}
		_, err = pc.ExecContext(ctx, w.SQL)
		if err == nil {
			return failed, "the proxy accepted an update of a sharding column (want error 1235)"
		}
		code, msg := errInfo(err)
		switch {
		case w.RefuseCode != 0 && uint16(code) != w.RefuseCode:
			return failed, fmt.Sprintf("want error %d, got %d %q", w.RefuseCode, code, msg)
		case w.RefuseCode == 0 && !isRefusal(err):
			return failed, fmt.Sprintf("want error 1235 %q..., got %d %q", refusalPrefix, code, msg)
		}
		rest := strings.ToLower(strings.TrimPrefix(msg, refusalPrefix))
		for _, word := range w.RefuseWhy {
			if strings.Contains(rest, word) {
				return passed, ""
			}
		}
		return failed, fmt.Sprintf("refusal message %q names none of %q", msg, w.RefuseWhy)
	}
	ores, oerr := oc.ExecContext(ctx, w.SQL)
	pres, perr := pc.ExecContext(ctx, w.SQL)
	if w.Error {
		if oerr == nil {
			return failed, "test bug: the oracle accepted a write flagged error"
		}
		oc, om := errInfo(oerr)
		if perr == nil {
			return failed, fmt.Sprintf("the proxy accepted it; the oracle failed with %d %q", oc, om)
		}
		if pcode, pm := errInfo(perr); pcode != oc {
			return failed, fmt.Sprintf("error code differs: proxy %d %q, oracle %d %q", pcode, pm, oc, om)
		}
		return passed, ""
	}
	if oerr != nil {
		return failed, fmt.Sprintf("test bug: the oracle failed: %v", oerr)
	}
	if perr != nil {
		code, msg := errInfo(perr)
		return failed, fmt.Sprintf("proxy error %d: %s", code, msg)
	}
	on, _ := ores.RowsAffected()
	oid, _ := ores.LastInsertId()
	pn, err := pres.RowsAffected()
	if err != nil {
		return failed, fmt.Sprintf("proxy RowsAffected: %v", err)
	}
	pid, _ := pres.LastInsertId()
	if pn != on {
		return failed, fmt.Sprintf("affected rows: proxy %d, oracle %d", pn, on)
	}
	if pid != oid {
		return failed, fmt.Sprintf("last insert id: proxy %d, oracle %d", pid, oid)
	}
	return passed, ""
}

// compareTables compares every table whole, ordered by primary key.
func compareTables(t *testing.T, proxy, oracle *sql.DB) {
	for _, tb := range shopTables {
		t.Run(tb.name, func(t *testing.T) {
			q := "SELECT * FROM " + tb.name + " ORDER BY " + tb.pk
			got, want := runQuery(proxy, q), runQuery(oracle, q)
			if v, why := judge(queryCase{ID: tb.name, SQL: q, Ordered: true}, got, want); v != passed {
				t.Errorf("table %s differs: %s", tb.name, why)
			}
		})
	}
}

// checkShardCounts checks, on the data hosts directly, that orders and its
// ER child are placed by user_id % 4 as DESIGN.md says.
func checkShardCounts(t *testing.T, oracle *sql.DB) {
	want := map[string]int{}
	for _, q := range []struct{ table, sql string }{
		{"orders", "SELECT user_id % 4, COUNT(*) FROM orders GROUP BY 1"},
		{"order_items", "SELECT o.user_id % 4, COUNT(*) FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY 1"},
	} {
		r := runQuery(oracle, q.sql)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		for _, row := range r.Rows {
			n, _ := strconv.Atoi(row[1])
			want[q.table+"_"+row[0]] = n
		}
	}
	for shard := 0; shard < 4; shard++ {
		addr, db := dh0Primary, "shop_0"
		if shard%2 == 1 {
			addr, db = dh1Primary, "shop_1"
		}
		direct := Open(t, DSN("sg", "sg", addr, db))
		for _, table := range []string{"orders", "order_items"} {
			phys := fmt.Sprintf("%s_%d", table, shard)
			r := runQuery(direct, "SELECT COUNT(*) FROM "+phys)
			if r.Err != nil {
				t.Errorf("%s.%s: %v", db, phys, r.Err)
				continue
			}
			if got, _ := strconv.Atoi(r.Rows[0][0]); got != want[phys] {
				t.Errorf("%s.%s holds %d rows, want %d (rows with user_id %% 4 = %d)", db, phys, got, want[phys], shard)
			}
		}
	}
}

// isShopPhysical reports whether a physical table name belongs to one of the
// logical tables of the suite (name or name_N).
func isShopPhysical(name string) bool {
	for _, tb := range shopTables {
		if name == tb.name {
			return true
		}
		if rest, ok := strings.CutPrefix(name, tb.name+"_"); ok {
			if _, err := strconv.Atoi(rest); err == nil {
				return true
			}
		}
	}
	return false
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestShardingOracleSelfCheck validates the suite itself against MariaDB only:
// every shape runs twice on the oracle (same result, in the same order) and on
// a shuffled Aria copy of the data (same result: ordered shapes in order,
// others as multisets), and shapes flagged error fail; the write sequence runs
// on both copies with the same affected rows and leaves equal tables.
func TestShardingOracleSelfCheck(t *testing.T) {
	queries := loadQueries(t, filepath.Join(shopDir(), "queries.txt"))
	shop := openOracle(t, "shop")
	loadOracle(t, shop)
	chk := openOracle(t, "shopchk")
	var aria []string
	for _, s := range splitSQLFile(t, filepath.Join(shopDir(), "schema.sql")) {
		aria = append(aria, strings.ReplaceAll(s, "ENGINE=InnoDB", "ENGINE=Aria"))
	}
	for _, tb := range shopTables {
		aria = append(aria, "INSERT INTO shopchk."+tb.name+" SELECT * FROM shop."+tb.name+" ORDER BY RAND(7)")
	}
	if err := execAll(chk, aria); err != nil {
		t.Fatal(err)
	}
	toChk := strings.NewReplacer("shop.", "shopchk.", "`shop`.", "`shopchk`.")
	var empty, single []string
	for _, q := range queries {
		t.Run(q.ID, func(t *testing.T) {
			r1, r2 := runQuery(shop, q.SQL), runQuery(shop, q.SQL)
			if q.Error {
				c1, m1 := errInfo(r1.Err)
				c2, m2 := errInfo(r2.Err)
				if r1.Err == nil || c1 != c2 || m1 != m2 {
					t.Errorf("flagged error but the oracle says %v / %v", r1.Err, r2.Err)
				}
				if !q.Meta {
					if c3, _ := errInfo(runQuery(chk, toChk.Replace(q.SQL)).Err); c3 != c1 {
						t.Errorf("error code %d on the copy, %d on the oracle", c3, c1)
					}
				}
				return
			}
			if r1.Err != nil || r2.Err != nil {
				t.Fatalf("invalid on MariaDB: %v / %v\n  SQL: %s", r1.Err, r2.Err, q.SQL)
			}
			if d := compareResults(r2, r1, true); d != "" {
				t.Errorf("not repeatable on the oracle: %s", d)
			}
			switch len(r1.Rows) {
			case 0:
				empty = append(empty, q.ID)
			case 1:
				single = append(single, q.ID)
			}
			if q.Meta {
				return
			}
			r3 := runQuery(chk, toChk.Replace(q.SQL))
			if r3.Err != nil {
				t.Fatalf("fails on the shuffled copy: %v", r3.Err)
			}
			blankIgnored(&r1, q.Ignore)
			blankIgnored(&r3, q.Ignore)
			if d := compareResults(r3, r1, q.Ordered); d != "" {
				t.Errorf("result depends on the physical row order (shuffled Aria copy vs oracle; ordered=%v): %s\n  SQL: %s", q.Ordered, d, q.SQL)
			}
		})
	}
	t.Logf("%d shapes; empty results: %v; single-row results: %d", len(queries), empty, len(single))

	t.Run("writes", func(t *testing.T) {
		sc, cc := Conn(t, shop), Conn(t, chk)
		ctx := context.Background()
		for _, w := range shopWrites {
			if w.Refuse {
				tx, err := sc.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				res, err := tx.ExecContext(ctx, w.SQL)
				_ = tx.Rollback()
				if err != nil {
					t.Errorf("%s: the oracle refuses it: %v", w.ID, err)
				} else if n, _ := res.RowsAffected(); n == 0 {
					t.Errorf("%s: changes no row on the oracle", w.ID)
				}
				continue
			}
			r1, e1 := sc.ExecContext(ctx, w.SQL)
			r2, e2 := cc.ExecContext(ctx, w.SQL)
			if w.Error {
				c1, _ := errInfo(e1)
				c2, _ := errInfo(e2)
				if e1 == nil || c1 != c2 {
					t.Errorf("%s: flagged error, oracle %v, copy %v", w.ID, e1, e2)
				}
				continue
			}
			if e1 != nil || e2 != nil {
				t.Errorf("%s: oracle %v, copy %v", w.ID, e1, e2)
				continue
			}
			n1, _ := r1.RowsAffected()
			n2, _ := r2.RowsAffected()
			id1, _ := r1.LastInsertId()
			id2, _ := r2.LastInsertId()
			if n1 != n2 || id1 != id2 {
				t.Errorf("%s: affected rows %d, last insert id %d on the oracle; %d, %d on the copy", w.ID, n1, id1, n2, id2)
			}
			t.Logf("%s: %d rows affected, last insert id %d", w.ID, n1, id1)
			if w.Check != "" {
				if d := compareResults(runQuery(cc, toChk.Replace(w.Check)), runQuery(sc, w.Check), false); d != "" {
					t.Errorf("%s: check query differs on the copy: %s", w.ID, d)
				}
			}
		}
		for _, tb := range shopTables {
			q := "SELECT * FROM " + tb.name + " ORDER BY " + tb.pk
			if d := compareResults(runQuery(chk, q), runQuery(shop, q), true); d != "" {
				t.Errorf("after the writes, table %s differs between the oracle and the copy: %s", tb.name, d)
			}
		}
	})
	MustExec(t, Open(t, DSN("sg", "sg", oracleAddr, "")), "DROP DATABASE shopchk")
}

// withLiterals writes args into sql's markers (strings quoted).
func withLiterals(sql string, args []any) string {
	for _, a := range args {
		lit := fmt.Sprint(a)
		if _, isString := a.(string); isString {
			lit = "'" + lit + "'"
		}
		sql = strings.Replace(sql, "?", lit, 1)
	}
	return sql
}

// movedLiterals adds k to each integer literal of sql, bare or quoted
// ('42'); with k < 0 it upper-cases each quoted string instead and adds a
// trailing space (not LIKE patterns or escapes). moved is false when
// nothing changed.
func movedLiterals(sql string, k int) (string, bool) {
	_, lits, ok := parser.Template(sql, nil, nil)
	if !ok {
		return sql, false
	}
	var sb strings.Builder
	last, moved := 0, false
	for _, l := range lits {
		lit := sql[l.Start:l.End]
		q := ""
		if l.Kind == parser.TokString && len(lit) >= 2 && lit[0] == '\'' {
			q, lit = "'", lit[1:len(lit)-1]
		}
		if k < 0 {
			if q == "" || strings.ContainsAny(lit, "\\%_") {
				continue
			}
			sb.WriteString(sql[last:l.Start])
			sb.WriteString("'" + strings.ToUpper(lit) + " '")
			last, moved = l.End, true
			continue
		}
		n, err := strconv.Atoi(lit)
		if err != nil {
			continue
		}
		sb.WriteString(sql[last:l.Start])
		sb.WriteString(q + strconv.Itoa(n+k) + q)
		last, moved = l.End, true
	}
	sb.WriteString(sql[last:])
	return sb.String(), moved
}

// fieldsText prints column definitions with everything a client sees.
func fieldsText(fields []*mysql.Field) string {
	var sb strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&sb, "[%s.%s.%s (%s.%s) charset %d len %d type %d flags %#x decimals %d] ",
			f.Schema, f.Table, f.Name, f.OrgTable, f.OrgName, f.Charset, f.ColumnLength, f.Type, f.Flag, f.Decimal)
	}
	return sb.String()
}

// compareDumps runs mariadb-dump --single-transaction (its default
// statements: a consistent-snapshot transaction, UNLOCK TABLES, savepoints,
// information_schema about tablespaces, SHOW CREATE ...) through the proxy
// and on the oracle: the dumps must be the same but for the order of rows.
func compareDumps(t *testing.T, proxyAddr string) {
	dump := func(addr, user string) []string {
		host, port, _ := strings.Cut(addr, ":")
		cmd := exec.Command("mariadb-dump", "--single-transaction", "--skip-dump-date", "-h", host, "-P", port, "-u", user, "-p"+user, "shop")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("mariadb-dump of %s: %v\n%s", addr, err, stderr.String())
		}
		var lines []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "-- Host:") || strings.HasPrefix(l, "-- Server version") {
				continue
			}
			lines = append(lines, strings.TrimRight(l, ",;"))
		}
		sort.Strings(lines) // rows come in shard order
		return lines
	}
	got, want := dump(proxyAddr, "app"), dump(oracleAddr, "sg")
	if len(got) != len(want) {
		t.Errorf("the proxy's dump has %d lines, the oracle's %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("first difference (sorted lines):\nproxy:  %.200s\noracle: %.200s", got[i], want[i])
			break
		}
	}
}
