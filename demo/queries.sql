-- Questions a security team asks of its Canary data, over the tables the tap lands in the
-- `canary` schema. The same SQL runs on DuckDB (`make demo`) and PostgreSQL (the end-to-end
-- test). Each query starts with a `-- name:` and a `-- title:` line and ends with `;`.

-- name: incidents_per_type
-- title: Incidents per type
SELECT
    logtype_name AS incident_type,
    logtype_category AS category,
    count(*) AS incidents,
    sum(CASE WHEN acknowledged THEN 0 ELSE 1 END) AS unacknowledged
FROM canary.incidents
GROUP BY logtype_name, logtype_category
ORDER BY incidents DESC, incident_type
LIMIT 10;

-- name: top_source_ips
-- title: Top source IPs, by events
SELECT
    src_host AS source_ip,
    sum(events_count) AS events,
    count(*) AS incidents,
    count(DISTINCT logtype) AS incident_types,
    count(DISTINCT node_id) AS targets,
    max(created_at) AS last_seen
FROM canary.incidents
WHERE src_host IS NOT NULL AND src_host <> ''
GROUP BY src_host
ORDER BY events DESC, incidents DESC, last_seen DESC
LIMIT 10;

-- name: tokens_triggered
-- title: Canarytokens triggered, per kind and source
SELECT
    coalesce(t.kind, i.logtype_name) AS token_kind,
    coalesce(t.memo, '') AS memo,
    i.src_host AS source_ip,
    count(*) AS incidents,
    sum(i.events_count) AS triggers,
    max(i.created_at) AS last_triggered
FROM canary.incidents AS i
LEFT JOIN canary.tokens AS t ON t.console = i.console AND t.node_id = i.node_id
WHERE i.logtype_category = 'Canarytoken'
GROUP BY coalesce(t.kind, i.logtype_name), coalesce(t.memo, ''), i.src_host
ORDER BY triggers DESC, last_triggered DESC
LIMIT 10;

-- name: ssh_brute_force_credentials
-- title: Top usernames and passwords tried in SSH brute forces
-- (NULLIF: some loaders store an empty string as NULL, so both read as "none given".)
SELECT
    NULLIF(username, '') AS username,
    NULLIF(password, '') AS password,
    count(*) AS attempts,
    count(DISTINCT incident_id) AS incidents
FROM canary.incident_events
WHERE logtype_category = 'SSH'
    AND (NULLIF(username, '') IS NOT NULL OR NULLIF(password, '') IS NOT NULL)
GROUP BY NULLIF(username, ''), NULLIF(password, '')
ORDER BY attempts DESC, username, password
LIMIT 10;

-- name: ports_scanned_per_source
-- title: Ports scanned per source
SELECT
    i.src_host AS source_ip,
    count(DISTINCT p.port) AS distinct_ports,
    count(DISTINCT (i.console, i.id)) AS scans,
    min(p.port) AS lowest_port,
    max(p.port) AS highest_port
FROM canary.incident_events AS e
JOIN canary.incidents AS i ON i.console = e.console AND i.id = e.incident_id
CROSS JOIN LATERAL unnest(CAST(e.ports AS BIGINT[])) AS p (port)
WHERE e.logtype_category = 'Port Scan'
GROUP BY i.src_host
ORDER BY distinct_ports DESC, source_ip
LIMIT 10;

-- name: internet_scanning_seen_by_outside_birds
-- title: Internet scanning seen by Outside Birds
SELECT
    o.console,
    coalesce(b.name, o.node_id) AS bird,
    count(DISTINCT o.ip_address) AS sources,
    sum(o.alert_count) AS alerts
FROM canary.outside_bird_incidents AS o
LEFT JOIN canary.birds AS b ON b.console = o.console AND b.id = o.node_id
WHERE o._sdc_deleted_at IS NULL
GROUP BY o.console, coalesce(b.name, o.node_id)
ORDER BY alerts DESC, bird
LIMIT 10;

-- name: admins_without_a_second_factor
-- title: Admins without a second factor
SELECT console, email, supervisor, saml_provisioned
FROM canary.users
WHERE is_admin
    AND NOT coalesce(totp_enabled, FALSE)
    AND NOT coalesce(webauthn_enabled, FALSE)
    AND NOT coalesce(disabled, FALSE)
    AND _sdc_deleted_at IS NULL
ORDER BY console, email;

-- name: birds_behind_on_firmware
-- title: Birds behind on firmware
SELECT console, name AS bird, current_version, available_version
FROM canary.bird_updates
WHERE _sdc_deleted_at IS NULL
ORDER BY console, bird
LIMIT 10;
