import test from 'ava';
import { destinationKey, matchesFilters } from '../../src/replication/configuration.ts';
import { backoff } from '../../src/replication/replicator.ts';

test('repository filters: PREFIX_MATCH as ECR, WILDCARD with * for any run, none matches everything', (t) => {
  t.true(matchesFilters('prod/app', []));
  t.true(matchesFilters('prod/app', [{ filter: 'prod', filterType: 'PREFIX_MATCH' }]));
  t.true(matchesFilters('production/app', [{ filter: 'prod', filterType: 'PREFIX_MATCH' }]));
  t.false(matchesFilters('dev/app', [{ filter: 'prod', filterType: 'PREFIX_MATCH' }]));
  t.true(matchesFilters('team-a/release', [{ filter: 'team-*/release', filterType: 'WILDCARD' }]));
  t.true(matchesFilters('team-/release', [{ filter: 'team-*/release', filterType: 'WILDCARD' }]));
  t.false(matchesFilters('team-a/release-2', [{ filter: 'team-*/release', filterType: 'WILDCARD' }]), 'a wildcard matches the whole name');
  t.false(matchesFilters('teamXa/release', [{ filter: 'team.a/release', filterType: 'WILDCARD' }]), 'a dot is a dot, not any character');
  t.true(matchesFilters('a/b', [{ filter: 'x', filterType: 'PREFIX_MATCH' }, { filter: '*/b', filterType: 'WILDCARD' }]), 'any filter matching is enough');
});

test('destination keys: one per registry however the endpoint is written', (t) => {
  t.is(destinationKey('HTTP://Registry.Example.com:80/'), 'http://registry.example.com');
  t.is(destinationKey('https://registry.example.com:443'), 'https://registry.example.com');
  t.is(destinationKey('http://127.0.0.1:5000/base//'), 'http://127.0.0.1:5000/base');
  t.not(destinationKey('http://127.0.0.1:5000'), destinationKey('https://127.0.0.1:5000'));
});

test('retry delays double per attempt up to the cap, with jitter of ±50%', (t) => {
  const options = { backoffMs: 1000, maxBackoffMs: 60_000 };
  t.is(backoff(0, options, () => 0.5), 1000);
  t.is(backoff(3, options, () => 0.5), 8000);
  t.is(backoff(20, options, () => 0.5), 60_000, 'capped');
  t.is(backoff(2, options, () => 0), 2000, 'lowest jitter: half');
  t.is(backoff(2, options, () => 0.999999), 6000, 'highest jitter: one and a half');
  const spread = new Set(Array.from({ length: 50 }, () => backoff(4, options)));
  t.true(spread.size > 10, 'random jitter spreads retries');
  for (const v of spread) t.true(v >= 8000 && v < 24_000);
});
