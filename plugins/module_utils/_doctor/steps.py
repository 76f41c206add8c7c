# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The doctor's verdicts: pure functions from what was observed to one step's result.

Each function returns a step: {step, status, summary, ...facts}. ``status`` is ok, warn, fail or
skip (not checked); ``summary`` is one sentence a person can act on. No I/O here: probe.py and
runtimes.py observe, driver.py walks the steps in order and stops at the first failure.
"""

from __future__ import annotations

import fnmatch
import ipaddress

from ansible_collections.berth.registry.plugins.module_utils._der_cert import (
    days_left, issued_by, iso, short_fingerprint,
)

OK, WARN, FAIL, SKIP = 'ok', 'warn', 'fail', 'skip'
RANK = {OK: 0, SKIP: 0, WARN: 1, FAIL: 2}

# The path a pull takes, in order. http-vs-https sits where the mismatch shows: at the first bytes.
STEPS = ('runtime', 'resolve', 'tcp', 'http-vs-https', 'tls-handshake', 'tls-chain', 'tls-san', 'auth',
         'credentials', 'clock-skew', 'cert-expiry')

# What each scheme setting means for the bytes a runtime sends
HTTPS, HTTP, HTTPS_INSECURE, HTTPS_NOVERIFY = 'https', 'http', 'https-insecure', 'https-noverify'
# schemes that send TLS only, and schemes that do not verify the certificate
TLS_ONLY = (HTTPS, HTTPS_NOVERIFY)
UNVERIFIED = (HTTPS_INSECURE, HTTPS_NOVERIFY)


def step(step_name, status, summary, **facts):
    result = dict(facts)
    result.update(step=step_name, status=status, summary=summary)
    return result


def not_checked(name, reason):
    return step(name, SKIP, 'not checked: %s' % reason)


def _is_ip(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# --- name resolution ------------------------------------------------------------------------

def resolve_step(name, expected, hosts_entries, addresses, error, hosts_path='/etc/hosts'):
    """hosts_entries: [(line number, address, line)] naming ``name`` in the hosts file;
    addresses: what the system resolver answered, in order (None when it failed with ``error``)."""
    if _is_ip(name):
        return step('resolve', OK, '%s is an IP address: nothing to resolve' % name, addresses=[name],
                    source='literal')
    if hosts_entries:
        lineno, address, line = hosts_entries[0]
        source = '%s line %d' % (hosts_path, lineno)
        origin = '%s: %r' % (source, line.strip())
        extra = '' if len(hosts_entries) == 1 else ' (%d lines of %s name it; the first counts)' % (
            len(hosts_entries), hosts_path)
    else:
        source = 'DNS'
        origin = 'DNS (no line in %s)' % hosts_path
        extra = ''
    facts = dict(addresses=addresses or [], source=source,
                 hosts_lines=[{'line': n, 'address': a} for n, a, dummy in hosts_entries])
    if not addresses:
        hint = ('add a line to %s (the client role writes one: registry_client_manage_hosts) or a DNS record'
                % hosts_path)
        if expected:
            hint += ' mapping %s to %s' % (name, expected)
        return step('resolve', FAIL, '%s does not resolve (%s) and %s has no line for it: %s'
                    % (name, error or 'no address', hosts_path, hint), **facts)
    shown = ', '.join(addresses)
    if expected and expected not in addresses:
        if hosts_entries:
            fix = 'correct that line (the client role manages it: rerun site.yml)'
        else:
            fix = 'correct the DNS record, or add a hosts line (registry_client_manage_hosts)'
        return step('resolve', FAIL, '%s resolves to %s (from %s), expected %s: %s'
                    % (name, shown, origin, expected, fix), **facts)
    if expected and addresses[0] != expected:
        return step('resolve', WARN, '%s resolves to %s first (from %s), the expected %s only later: clients try %s '
                    'first' % (name, addresses[0], origin, expected, addresses[0]), **facts)
    return step('resolve', OK, '%s resolves to %s (from %s)%s' % (name, shown, source, extra), **facts)


# --- TCP ------------------------------------------------------------------------------------

def tcp_step(address, port, outcome, text, timeout):
    """outcome: ok, refused, timeout, unreachable or error (text: the system's message)."""
    where = '%s:%d' % (('[%s]' % address) if ':' in address else address, port)
    facts = dict(address=address, port=port, outcome=outcome)
    if outcome == 'ok':
        return step('tcp', OK, '%s accepts TCP connections' % where, **facts)
    if outcome == 'refused':
        return step('tcp', FAIL, 'nothing accepts connections on %s (connection refused): the registry is not '
                    'running or not published on port %d there, or a firewall rejects the connection'
                    % (where, port), **facts)
    if outcome == 'timeout':
        return step('tcp', FAIL, 'no answer from %s within %g s: a firewall drops the packets (check iptables/nft '
                    'on this host, the registry host and between), or the host is down' % (where, timeout), **facts)
    if outcome == 'unreachable':
        return step('tcp', FAIL, 'no route to %s (%s): check the network and firewalls between this host and the '
                    'registry' % (where, text), **facts)
    return step('tcp', FAIL, 'cannot connect to %s: %s' % (where, text), **facts)


# --- HTTP or HTTPS ----------------------------------------------------------------------------

def scheme_words(scheme):
    return {HTTPS: 'HTTPS (verified)', HTTP: 'plain HTTP', HTTPS_INSECURE: 'HTTPS without verification, then '
            'plain HTTP', HTTPS_NOVERIFY: 'HTTPS without verification'}[scheme]


def protocol_step(runtime, endpoint, where, speaks, expected_tls, scheme, scheme_source, detail=None):
    """What the port speaks (tls, http, unknown) vs what the registry should speak and what the runtime sends."""
    facts = dict(speaks=speaks, expected='https' if expected_tls else 'http', scheme=scheme,
                 scheme_source=scheme_source)
    expected_word = 'HTTPS' if expected_tls else 'plain HTTP'
    if speaks == 'unknown':
        if expected_tls:
            return step('http-vs-https', OK, '%s does not answer plain HTTP (TLS checked next)' % where, **facts)
        return step('http-vs-https', FAIL, '%s answers neither plain HTTP nor TLS (%s): is it a registry?'
                    % (where, detail or 'no HTTP answer'), **facts)
    if speaks == 'http':
        if expected_tls:
            if scheme in TLS_ONLY:
                tail = 'and %s speaks HTTPS to %s (%s)' % (runtime, endpoint, scheme_source)
            else:
                tail = 'though %s would fall back to plain HTTP (%s)' % (runtime, scheme_source)
            return step('http-vs-https', FAIL, '%s answers plain HTTP, but the registry is expected to serve HTTPS '
                        '(tls: true) %s: a plain-HTTP server answers on that port; check registry_tls, the port, '
                        'and anything in front of the registry' % (where, tail), **facts)
        if scheme in TLS_ONLY:
            return step('http-vs-https', FAIL, '%s serves plain HTTP, as expected, but %s speaks HTTPS to %s (%s): '
                        'list %s as insecure for %s (the client role does with registry_tls: false)'
                        % (where, runtime, endpoint, scheme_source, endpoint, runtime), **facts)
        return step('http-vs-https', OK, '%s serves plain HTTP, as expected; %s allows it (%s)'
                    % (where, runtime, scheme_source), **facts)
    # speaks TLS
    if not expected_tls:
        tail = '; %s sends it plain HTTP (%s)' % (runtime, scheme_source) if scheme == HTTP else ''
        return step('http-vs-https', FAIL, '%s speaks TLS, but the registry is expected to serve plain HTTP '
                    '(tls: false)%s: check registry_tls and the port' % (where, tail), **facts)
    if scheme == HTTP:
        return step('http-vs-https', FAIL, '%s speaks TLS, but %s is set to send plain HTTP to %s (%s): it will '
                    'fail on every pull; make it use https (the client role writes it)'
                    % (where, runtime, endpoint, scheme_source), **facts)
    if scheme in UNVERIFIED:
        return step('http-vs-https', WARN, '%s speaks TLS, but %s does not verify its certificate (%s): it accepts '
                    'any certificate there; remove that setting (the client role does under registry_tls: true)'
                    % (where, runtime, scheme_source), **facts)
    return step('http-vs-https', OK, '%s speaks TLS and %s uses %s (%s)'
                % (where, runtime, expected_word, scheme_source), **facts)


def handshake_step(where, speaks, expected_tls, hello):
    """hello: the handshake that accepts any certificate, {ok, version, cipher, error}."""
    if not expected_tls or speaks == 'http':
        return not_checked('tls-handshake', 'plain HTTP')
    if hello.get('ok'):
        words = 'TLS handshake with %s: %s, %s' % (where, hello.get('version'), hello.get('cipher'))
        return step('tls-handshake', OK, words, version=hello.get('version'), cipher=hello.get('cipher'))
    if speaks == 'tls':
        return step('tls-handshake', FAIL, 'TLS handshake with %s failed: %s; the registry speaks TLS but refuses '
                    'this client (a client certificate required? no common TLS version?)' % (where, hello.get('error')),
                    error=hello.get('error'))
    return step('tls-handshake', FAIL, 'TLS handshake with %s failed: %s; something that is neither the registry nor '
                'a plain-HTTP server answers there' % (where, hello.get('error')), error=hello.get('error'))


# --- certificate chain ------------------------------------------------------------------------

def _ca_name(ca):
    return '"%s" (sha256 %s)' % (ca['subject'], short_fingerprint(ca['fingerprint_sha256']))


def _expected_word(ca, expected):
    return any(ca['fingerprint_sha256'] == e['fingerprint_sha256'] for e in expected)


def trusted_summary(trust, expected, now):
    """The CA files a runtime reads for the registry, each certificate marked current (= an expected CA) or not."""
    files = []
    for item in trust.get('files', []):
        files.append({'path': item['path'], 'error': item.get('error'),
                      'certificates': [dict(_short(c, now), current=_expected_word(c, expected))
                                       for c in item.get('certificates', [])]})
    return files


def _short(cert, now):
    return {'subject': cert['subject'], 'fingerprint_sha256': cert['fingerprint_sha256'],
            'not_after': iso(cert['not_after']), 'days_left': days_left(cert['not_after'], now)}


def chain_step(runtime, endpoint, verified, verify_code, verify_message, leaf, trust, expected, now):
    """verified: OpenSSL accepted the chain with the runtime's CAs (+ the system store, when the runtime adds it).

    trust: {files: [{path, certificates: [parsed], error}], looked_in: [dirs], system: bool, source: text};
    expected: parsed expected CA certificates (what the clients should trust); leaf: the parsed server certificate.
    """
    cas = [c for f in trust.get('files', []) for c in f.get('certificates', [])]
    files = [f['path'] for f in trust.get('files', []) if f.get('certificates')]
    signer = next((c for c in cas + list(expected) if issued_by(leaf, c)), None)
    facts = dict(trusted=trusted_summary(trust, expected, now), issuer=leaf['issuer'],
                 signer=None if signer is None else signer['fingerprint_sha256'],
                 verify_code=verify_code, verify_message=verify_message)
    if verified:
        if signer is None:
            how = 'trusted through the system CA store'
        else:
            where = next((f['path'] for f in trust.get('files', [])
                          if any(c is signer for c in f.get('certificates', []))), None)
            how = 'signed by %s%s' % (_ca_name(signer), ' in %s' % where if where else '')
        if expected and (signer is None or not _expected_word(signer, expected)):
            return step('tls-chain', WARN, '%s trusts the registry\'s certificate (%s), but not through the expected '
                        'CA %s: the registry serves a certificate from another CA'
                        % (runtime, how, ', '.join(_ca_name(e) for e in expected)), **facts)
        return step('tls-chain', OK, '%s: %s' % (runtime, how), **facts)
    issuer = '"%s"' % leaf['issuer']
    if leaf['issuer_der'] == leaf['subject_der'] and verify_code in (18, None):
        return step('tls-chain', FAIL, 'the registry presents a self-signed certificate %s, which %s does not trust: '
                    'serve a certificate signed by the CA the clients trust' % (issuer, runtime), **facts)
    if signer is not None and _expected_word(signer, expected):
        about_signer = ' (that is the expected CA %s: install it there, e.g. rerun site.yml)' % _ca_name(signer)
    elif expected:
        about_signer = ' (not the expected CA %s either: the registry serves a certificate from another CA)' % (
            ', '.join(_ca_name(e) for e in expected))
    else:
        about_signer = ''
    if verify_code not in (None, 2, 20, 21):  # not an unknown-issuer error: say OpenSSL's words
        return step('tls-chain', FAIL, '%s would reject the registry\'s certificate: %s (OpenSSL verify code %s)%s'
                    % (runtime, verify_message, verify_code, about_signer), **facts)
    if not files:
        looked = ', '.join(trust.get('looked_in') or []) or 'nowhere'
        return step('tls-chain', FAIL, '%s has no CA for %s (no *.crt in %s)%s, so the registry\'s certificate, signed '
                    'by %s, is not trusted%s' % (runtime, endpoint, looked, ' and the system store does not '
                                                 'trust it' if trust.get('system') else '', issuer, about_signer),
                    **facts)
    ours = ', '.join('%s (sha256 %s)' % (path, ', '.join(short_fingerprint(c['fingerprint_sha256'])
                                                         for f in trust['files'] if f['path'] == path
                                                         for c in f['certificates']))
                     for path in files)
    return step('tls-chain', FAIL, 'the registry\'s certificate is not signed by the CA in %s; it is signed by %s%s'
                % (ours, issuer, about_signer), **facts)


def insecure_chain_step(runtime, scheme_source):
    return step('tls-chain', SKIP, 'not verified by %s: insecure (%s)' % (runtime, scheme_source))


# --- names in the certificate -----------------------------------------------------------------

def dns_match(name, pattern):
    """RFC 6125 matching as Go's crypto/x509 does it: a wildcard stands for exactly one leftmost label."""
    name, pattern = name.lower().rstrip('.'), pattern.lower().rstrip('.')
    if pattern.startswith('*.'):
        return '.' in name and name.split('.', 1)[1] == pattern[2:] and name.split('.', 1)[0] != ''
    return not any(c in pattern for c in '*?[') and fnmatch.fnmatchcase(name, pattern)


def san_step(name, leaf):
    names = ['DNS:%s' % n for n in leaf['dns_names']] + ['IP:%s' % a for a in leaf['ip_addresses']]
    facts = dict(typed=name, sans=names)
    if _is_ip(name):
        wanted = str(ipaddress.ip_address(name))
        matched = any(str(ipaddress.ip_address(a)) == wanted for a in leaf['ip_addresses'])
    else:
        matched = any(dns_match(name, p) for p in leaf['dns_names'])
    if matched:
        return step('tls-san', OK, 'the certificate names %s (%s)' % (name, ', '.join(names)), **facts)
    if not names:
        return step('tls-san', FAIL, 'the registry\'s certificate carries no subjectAltName (subject "%s"); clients '
                    'ignore the CN: reissue it with %s as a SAN' % (leaf['subject'], name), **facts)
    fix = ('add it as registry_cert_extra_ip_addresses' if _is_ip(name)
           else 'add it to registry_cert_extra_dns_names')
    return step('tls-san', FAIL, 'the certificate is for %s; %s, the name typed, is not among them: type one of '
                'those names, or %s and rerun site.yml' % (', '.join(names), name, fix), **facts)


# --- the registry API -------------------------------------------------------------------------

def auth_step(where, status, headers, error, expected_tls):
    """Anonymous GET /v2/: 401 with a challenge is what a registry with auth answers."""
    headers = dict((k.lower(), v) for k, v in (headers or {}).items())
    challenge = headers.get('www-authenticate', '')
    api = headers.get('docker-distribution-api-version')
    facts = dict(http_status=status, challenge=challenge.split(' ', 1)[0] if challenge else None, api_version=api)
    if error:
        return step('auth', FAIL, 'GET /v2/ on %s failed: %s' % (where, error), **facts)
    if status == 401:
        kind = challenge.split(' ', 1)[0] or 'no challenge'
        return step('auth', OK, 'anonymous GET /v2/ answers 401 (%s): auth is required, as expected'
                    % kind, **facts)
    if status == 200:
        if expected_tls:
            return step('auth', WARN, 'anonymous GET /v2/ answers 200: the registry lets anyone push and delete '
                        '(no auth configured)', **facts)
        return step('auth', OK, 'anonymous GET /v2/ answers 200: open registry, as in plain-HTTP mode', **facts)
    if api is None:
        return step('auth', FAIL, 'GET /v2/ on %s answers %s without a Docker-Distribution-Api-Version header: '
                    'that is not a registry' % (where, status), **facts)
    return step('auth', FAIL, 'GET /v2/ on %s answers %s: the registry is unwell (see its log)' % (where, status),
                **facts)


def credentials_step(runtime, endpoint, stored, status, error, enabled, auth_required):
    """stored: {source, user, helper, looked_in} (never the secret); status: what GET /v2/ with them answered."""
    if not enabled:
        return not_checked('credentials', 'check_credentials is false')
    if stored is None:
        return not_checked('credentials', '%s keeps no credentials: the CRI client passes them with each pull'
                           % runtime)
    facts = dict(source=stored.get('source'), user=stored.get('user'))
    if stored.get('helper'):
        return step('credentials', SKIP, 'credentials for %s are in the credential helper docker-credential-%s: not '
                    'checked' % (endpoint, stored['helper']), **facts)
    if not stored.get('source'):
        looked = ', '.join(stored.get('looked_in') or [])
        if auth_required:
            return step('credentials', WARN, 'no stored credentials for %s (looked in %s): pulls need a login '
                        '(docker login %s, or registry_client_login_user)' % (endpoint, looked, endpoint), **facts)
        return step('credentials', OK, 'no stored credentials for %s, none needed' % endpoint, **facts)
    who = 'for %s in %s' % (stored.get('user') or '(no user name)', stored['source'])
    if error:
        return step('credentials', WARN, 'the credentials stored %s could not be checked: %s' % (who, error), **facts)
    if status == 200:
        return step('credentials', OK, 'the credentials stored %s are accepted (GET /v2/ answers 200)' % who, **facts)
    if status == 401:
        return step('credentials', FAIL, 'the credentials stored %s are refused (GET /v2/ answers 401): stale or '
                    'wrong password; log in again (docker login %s) or rerun site.yml with registry_client_login_user'
                    % (who, endpoint), **facts)
    return step('credentials', WARN, 'GET /v2/ with the credentials stored %s answers %s' % (who, status), **facts)


# --- time -----------------------------------------------------------------------------------

def skew_step(registry_date, local_now, threshold):
    """registry_date: the registry's Date header as an aware datetime (None if it sent none)."""
    if registry_date is None:
        return not_checked('clock-skew', 'the registry sent no Date header')
    skew = int(round((local_now - registry_date).total_seconds()))
    facts = dict(skew_seconds=skew, threshold_seconds=threshold, registry_date=iso(registry_date))
    if abs(skew) <= threshold:
        return step('clock-skew', OK, 'clock within %d s of the registry\'s (threshold %d s)' % (abs(skew), threshold),
                    **facts)
    direction = 'ahead of' if skew > 0 else 'behind'
    return step('clock-skew', FAIL, 'this host\'s clock is %d s %s the registry\'s (its Date: %s; threshold %d s): '
                'certificates look expired or not yet valid and tokens fail; fix time sync (NTP) on whichever host '
                'is off' % (abs(skew), direction, iso(registry_date), threshold), **facts)


def expiry_step(leaf, now, warn_days, runtimes_word='clients'):
    left = days_left(leaf['not_after'], now)
    facts = dict(days_left=left, not_after=iso(leaf['not_after']), not_before=iso(leaf['not_before']))
    if leaf['not_before'] > now:
        return step('cert-expiry', FAIL, 'the registry\'s certificate is not valid before %s: %s will refuse it until '
                    'then (or this host\'s clock is behind)' % (iso(leaf['not_before']), runtimes_word), **facts)
    if leaf['not_after'] <= now:
        ago = int((now - leaf['not_after']).total_seconds() // 86400)
        return step('cert-expiry', FAIL, 'the registry\'s certificate expired on %s (%d day%s ago): %s will refuse it; '
                    'renew it (site.yml renews within registry_cert_renew_before_days) and restart the registry'
                    % (iso(leaf['not_after']), ago, '' if ago == 1 else 's', runtimes_word), **facts)
    if left < warn_days:
        return step('cert-expiry', WARN, 'the registry\'s certificate expires in %d days (%s): renew it soon'
                    % (left, iso(leaf['not_after'])), **facts)
    return step('cert-expiry', OK, 'the registry\'s certificate expires in %d days (%s)'
                % (left, iso(leaf['not_after'])), **facts)


# --- putting it together ------------------------------------------------------------------------

def first_problem(steps):
    """(status, step) of the first failing step, else the first warning, else (ok, None)."""
    for wanted in (FAIL, WARN):
        for item in steps:
            if item['status'] == wanted:
                return wanted, item
    return OK, None


def complete(steps):
    """The walk's steps plus every later step marked not checked, so each runtime lists all STEPS."""
    done = set(s['step'] for s in steps)
    failed = next((s['step'] for s in steps if s['status'] == FAIL), None)
    reason = 'an earlier step (%s) failed' % failed if failed else 'not applicable'
    return list(steps) + [not_checked(name, reason) for name in STEPS if name not in done]


def runtime_status(runtime):
    """'fail', 'warn' or 'ok' for a checked runtime's steps."""
    return first_problem(runtime.get('steps', []))[0]


def ok_words(runtime):
    """A short account of a healthy walk, for the one-line verdict."""
    by = dict((s['step'], s) for s in runtime.get('steps', []))
    words = []
    tcp = by.get('tcp', {})
    if tcp.get('address'):
        words.append('%s -> %s:%s' % (runtime.get('endpoint', ''), tcp['address'], tcp.get('port')))
    proto = by.get('http-vs-https', {})
    if proto.get('speaks') == 'http':
        words.append('plain HTTP')
    chain = by.get('tls-chain', {})
    if chain.get('status') == OK and chain.get('signer'):
        words.append('chain to sha256 %s' % short_fingerprint(chain['signer']))
    creds = by.get('credentials', {})
    if creds.get('status') == OK and creds.get('user'):
        words.append('login %s valid' % creds['user'])
    skew = by.get('clock-skew', {})
    if 'skew_seconds' in skew:
        words.append('skew %d s' % skew['skew_seconds'])
    expiry = by.get('cert-expiry', {})
    if 'days_left' in expiry:
        words.append('certificate %d days left' % expiry['days_left'])
    return ', '.join(words)


def host_verdict(label, runtimes):
    """(status, failed step or None, one line) for the host, from its runtimes' walks.

    runtimes: [{name, checked, steps, reason}] in the order docker, containerd, containers.
    """
    checked = [r for r in runtimes if r.get('checked')]
    if not checked:
        absent = '; '.join('%s: %s' % (r['name'], r.get('reason', 'not found')) for r in runtimes)
        return FAIL, 'runtime', '%s: FAIL runtime: no container runtime to check (%s)' % (label, absent)
    worst = max((runtime_status(r) for r in checked), key=lambda s: RANK[s])
    names = [r['name'] for r in checked]
    if worst == OK:
        first = checked[0]
        return OK, None, '%s: OK %s [%s]' % (label, ok_words(first), ', '.join(names))
    hits = []
    for runtime in checked:
        status, item = first_problem(runtime['steps'])
        if status == worst:
            hits.append((runtime['name'], item))
    name, item = hits[0]
    also = ['%s: %s' % (n, i['step']) for n, i in hits[1:] if (i['step'], i['summary']) != (item['step'], item['summary'])]
    same = [n for n, i in hits[1:] if (i['step'], i['summary']) == (item['step'], item['summary'])]
    tail = ' [%s]' % ', '.join([name] + same)
    if also:
        tail += ' (also %s)' % '; '.join(also)
    failed = item['step'] if worst == FAIL else None
    return worst, failed, '%s: %s %s: %s%s' % (label, worst.upper(), item['step'], item['summary'], tail)
