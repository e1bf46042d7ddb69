-- Logical tables of the `shop` schema used by TestSharding (integration/sharding_test.go).
-- Sent through the proxy (which creates every physical table) and to the oracle database `shop`
-- on 127.0.0.1:13310. One statement per `;`-terminated line group; no AUTO_INCREMENT anywhere.

-- global: a copy on every data node
CREATE TABLE regions (
  id INT NOT NULL,
  name VARCHAR(40) NOT NULL,
  country CHAR(2) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- single node: dn1
CREATE TABLE users (
  id INT NOT NULL,
  name VARCHAR(64) NOT NULL,
  email VARCHAR(100) NULL,
  region_id INT NULL,
  created DATE NOT NULL,
  balance DECIMAL(10,2) NULL,
  PRIMARY KEY (id),
  KEY idx_region (region_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- sharded: mod on user_id, 4 shards over dn0, dn1
CREATE TABLE orders (
  id BIGINT NOT NULL,
  user_id INT NOT NULL,
  region_id INT NULL,
  amount DECIMAL(10,2) NOT NULL,
  status VARCHAR(16) NOT NULL,
  tag VARCHAR(16) NULL,
  created DATETIME NOT NULL,
  qty INT NOT NULL,
  score DOUBLE NULL,
  note TEXT NULL,
  PRIMARY KEY (id),
  KEY idx_user (user_id, created),
  KEY idx_status (status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- ER child of orders (order_items.order_id = orders.id)
CREATE TABLE order_items (
  id BIGINT NOT NULL,
  order_id BIGINT NOT NULL,
  product_id INT NOT NULL,
  qty INT NOT NULL,
  price DECIMAL(8,2) NOT NULL,
  PRIMARY KEY (id),
  KEY idx_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- not listed in the config: lives on the default node dn0
CREATE TABLE products (
  id INT NOT NULL,
  name VARCHAR(64) NOT NULL,
  category VARCHAR(20) NOT NULL,
  price DECIMAL(8,2) NOT NULL,
  stock INT NULL,
  origin_region INT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- sharded by a string column: hash on code, 4 shards
CREATE TABLE accounts (
  code VARCHAR(20) NOT NULL,
  owner VARCHAR(40) NOT NULL,
  level TINYINT NOT NULL,
  credit DECIMAL(12,3) NULL,
  opened DATE NOT NULL,
  tier ENUM('gold', 'basic', 'silver') NULL,
  perks SET('wifi', 'lounge', 'bags') NOT NULL DEFAULT '',
  PRIMARY KEY (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- sharded by range on id, boundaries 250, 500, 750
CREATE TABLE events (
  id INT NOT NULL,
  kind VARCHAR(12) NOT NULL,
  value INT NULL,
  amount DECIMAL(9,3) NOT NULL,
  happened DATETIME NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- sharded by date on visit_date (3 months a shard from 2024-01-01, wrapping over 4 shards)
CREATE TABLE visits (
  id INT NOT NULL,
  visit_date DATE NOT NULL,
  user_id INT NOT NULL,
  pages INT NOT NULL,
  duration DOUBLE NULL,
  source VARCHAR(20) NULL,
  PRIMARY KEY (id, visit_date),
  KEY idx_date (visit_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
