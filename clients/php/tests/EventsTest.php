<?php

declare(strict_types=1);

namespace Sessiond\Tests;

use PHPUnit\Framework\TestCase;
use Sessiond\Client;
use Sessiond\Exception\BadRequestException;
use Sessiond\Exception\ProblemException;
use Sessiond\Exception\SessiondException;
use Sessiond\Exception\UnauthorizedException;
use Sessiond\Exception\UnavailableException;
use Sessiond\Internal\EventFrame;
use Sessiond\Internal\Events;
use Sessiond\Internal\EventStreamParser;
use Sessiond\LifecycleEvent;
use Sessiond\Missed;
use Sessiond\Tests\Support\EventStub;
use Sessiond\Tests\Support\Relay;
use Sessiond\Tests\Support\SessiondServer;

/**
 * Lifecycle events (GET /events) with Client::events(): the Server-Sent Events parser against
 * the HTML standard's rules, then the real sessiond binary: every kind of event, a stream
 * resumed after its connection was cut (a relay that drops it) and after Sessiond restarted (a
 * Missed notice), a stream from now, leaving the loop, the errors that are not retried
 * (events-off, a malformed ID, a wrong API key) and the API key's namespace; and stubs for what
 * the server does not do on demand: a silent stream, a 503 with Retry-After, a frame that is
 * not an event.
 */
final class EventsTest extends TestCase
{
    private const HANDLE = '7db8182f26b9ef9938efa0806c9f8d46';
    private const OTHER = 'ef556344141670d30815227911dbc7b6';

    /** @var \WeakMap<\Generator, bool>|null the generators take() has started */
    private static ?\WeakMap $started = null;

    /**
     * @return array{list<EventFrame>, EventStreamParser}
     */
    private static function parse(array $chunks, string $lastEventId = ''): array
    {
        $parser = new EventStreamParser($lastEventId);
        $frames = [];
        foreach ($chunks as $chunk) {
            array_push($frames, ...$parser->feed($chunk));
        }
        return [$frames, $parser];
    }

    private static function frame(string $event, string $data, string $lastEventId = ''): EventFrame
    {
        return new EventFrame($event, $data, $lastEventId);
    }

    // MARK: - The event stream format

    public function testAnEventIsItsIdEventAndDataLinesThenABlankLine(): void
    {
        [$frames, $parser] = self::parse(["retry: 1000\n\nid: 5-0\nevent: created\ndata: {\"a\":1}\n\n"]);
        self::assertEquals([self::frame('created', '{"a":1}', '5-0')], $frames);
        self::assertSame(1.0, $parser->retry);
        self::assertSame('5-0', $parser->lastEventId);
    }

    public function testDataLinesAreJoinedByLineFeedsAndCommentsIgnored(): void
    {
        [$frames] = self::parse([": keep-alive\n\ndata: one\n: between\ndata:two\ndata:  three\ndata\n\n"]);
        // One space after the colon is dropped, a second kept; "data" without a colon is an empty line.
        self::assertEquals([self::frame('message', "one\ntwo\n three\n")], $frames);
    }

    public function testAFieldWithoutColonHasAnEmptyValueAndUnknownFieldsAreIgnored(): void
    {
        [$frames] = self::parse(["event\ndata: x\nfoo: bar\nid\n\n"], '3-0');
        self::assertEquals([self::frame('message', 'x', '')], $frames);
    }

    public function testCrlfLfAndCrEndLinesEvenCutAnywhere(): void
    {
        $text = "id: 1-0\r\nevent: created\rdata: a\n\r\nid: 2-0\revent: deleted\r\ndata: b\r\r";
        $whole = [self::frame('created', 'a', '1-0'), self::frame('deleted', 'b', '2-0')];
        self::assertEquals($whole, self::parse([$text])[0]);
        self::assertEquals($whole, self::parse(str_split($text))[0], 'one byte at a time');
        for ($cut = 0; $cut <= strlen($text); $cut++) { // a CRLF cut in two is one line end, not two
            self::assertEquals($whole, self::parse([substr($text, 0, $cut), substr($text, $cut)])[0], "cut at $cut");
        }
    }

    public function testUtf8CutInsideACharacterAndALeadingBom(): void
    {
        $text = "\xEF\xBB\xBFdata: {\"subject\":\"café ☕\"}\n\n";
        self::assertEquals([self::frame('message', '{"subject":"café ☕"}')], self::parse(str_split($text))[0]);
        self::assertEquals([self::frame('message', 'x')], self::parse(["\xEF\xBB\xBFdata: x\n\n"])[0]);
        self::assertEquals([], self::parse(["\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"])[0], 'only one BOM is dropped');
        if (function_exists('mb_scrub')) {
            self::assertEquals([self::frame('message', "x\u{FFFD}")], self::parse(["data: x\xFF\n\n"])[0]);
        }
    }

    public function testTheLastIdCarriesOverAnEventWithoutOneAndAnEmptyIdResetsIt(): void
    {
        [$frames, $parser] = self::parse(["event: missed\ndata: {}\n\n", "id: 7-1\ndata: a\n\n", "data: b\n\n", "id\ndata: c\n\n"], '6-0');
        self::assertSame(['6-0', '7-1', '7-1', ''], array_map(static fn (EventFrame $f): string => $f->lastEventId, $frames));
        self::assertSame('', $parser->lastEventId);
    }

    public function testAnIdWithNulIsIgnoredAndAnEventWithoutDataOnlySetsTheIdAndAnUnfinishedOneIsDropped(): void
    {
        [$frames, $parser] = self::parse(["id: 1\x002\ndata: a\n\nid: 9-9\nevent: created\n\nid: 10-0\ndata: x\n"]);
        self::assertEquals([self::frame('message', 'a')], $frames);
        self::assertSame('9-9', $parser->lastEventId);
    }

    public function testRetryOnlyWhenAllDigits(): void
    {
        self::assertSame(2.5, self::parse(["retry: 2500\n"])[1]->retry);
        foreach (["retry: 1.5\n", "retry: -1\n", "retry: 1s\n", "retry: ١٢\n", "retry:\n", "retry: +5\n"] as $bad) {
            self::assertNull(self::parse([$bad])[1]->retry, $bad);
        }
    }

    public function testFramesBecomeLifecycleEventsAndMissedNotices(): void
    {
        $where = 'GET http://127.0.0.1/events';
        $created = Events::itemOf(self::frame('created', json_encode([
            'id' => '1-0', 'type' => 'created', 'handle' => self::HANDLE, 'subject' => 'u', 'device' => ['ua' => 'x', 'n' => 1],
            'time' => '2026-11-29T12:48:13.261Z', 'later' => true]), '1-0'), $where);
        self::assertInstanceOf(LifecycleEvent::class, $created);
        self::assertSame(['1-0', 'created', self::HANDLE, null, 'u', ['ua' => 'x']], [$created->id, $created->type, $created->handle, $created->from, $created->subject, $created->device]);
        self::assertSame('2026-11-29T12:48:13.261+00:00', $created->time->format('Y-m-d\TH:i:s.vP'));
        self::assertSame('UTC', $created->time->getTimezone()->getName());
        self::assertTrue($created->raw['later']);

        $rotated = Events::itemOf(self::frame('rotated', json_encode([
            'id' => '2-0', 'type' => 'rotated', 'handle' => self::OTHER, 'from' => self::HANDLE, 'subject' => null, 'device' => null,
            'time' => '2026-11-29T12:48:13.261Z']), '2-0'), $where);
        self::assertInstanceOf(LifecycleEvent::class, $rotated);
        self::assertSame([self::HANDLE, null, null], [$rotated->from, $rotated->subject, $rotated->device]);

        $bare = Events::itemOf(self::frame('deleted', '{"handle":"' . self::HANDLE . '","time":"2026-11-29T12:48:13Z"}', '3-0'), $where);
        self::assertInstanceOf(LifecycleEvent::class, $bare);
        self::assertSame(['3-0', 'deleted'], [$bare->id, $bare->type], 'id and type default to the frame\'s');

        $missed = Events::itemOf(self::frame('missed', '{"type":"missed","after":"1-0","detail":"dropped"}', '1-0'), $where);
        self::assertEquals(new Missed('1-0', 'dropped'), $missed);
        self::assertSame('missed', $missed->type);
        self::assertEquals(new Missed('4-0'), Events::itemOf(self::frame('missed', '{}', '4-0'), $where));

        foreach (['not json', '[1]', '[]', 'null', '{"type":"created"}', '{"handle":"' . self::HANDLE . '","time":"yesterday"}',
            '{"id":5,"handle":"' . self::HANDLE . '","time":"2026-11-29T12:48:13Z"}'] as $data) {
            try {
                Events::itemOf(self::frame('created', $data, '3-0'), $where);
                self::fail("$data was taken for an event");
            } catch (UnavailableException $error) {
                self::assertSame(200, $error->status);
                self::assertStringEndsWith($where, $error->getMessage());
            }
        }
    }

    public function testReconnectingWaitsRetryThenDoublesUpToACap(): void
    {
        self::assertSame(1.0, Events::retryDelay(1.0, 0));
        self::assertSame([2.0, 4.0, 8.0], array_map(static fn (int $n): float => Events::retryDelay(1.0, $n), [1, 2, 3]));
        self::assertSame(Events::MAX_RETRY_DELAY, Events::retryDelay(1.0, 50));
        self::assertSame(Events::MAX_RETRY_DELAY, Events::retryDelay(3600.0, 0));
        self::assertSame(0.1, Events::retryDelay(0.0, 0), '"retry: 0" does not spin');
        self::assertSame(7.0, Events::retryDelay(1.0, 1, new UnavailableException('503', 7, 503)));
        self::assertTrue(Events::isTransient(new UnavailableException('refused')));
        self::assertTrue(Events::isTransient(new ProblemException(500, 'about:blank', null, null)));
        self::assertFalse(Events::isTransient(new ProblemException(501, 'https://sessiond.dev/problems/events-off', null, null)));
        self::assertFalse(Events::isTransient(new UnauthorizedException(401, 'about:blank', null, null)));
    }

    // MARK: - Against the real server

    /**
     * The next $count items of $items, or a failure after $within seconds (with pcntl).
     *
     * @param \Generator<int, LifecycleEvent|Missed, mixed, never> $items
     * @return list<LifecycleEvent|Missed>
     */
    private static function take(\Generator $items, int $count, int $within = 20): array
    {
        self::$started ??= new \WeakMap();
        $got = [];
        $alarm = function_exists('pcntl_alarm');
        if ($alarm) {
            pcntl_async_signals(true);
            pcntl_signal(SIGALRM, static function () use (&$got, $count, $within): void {
                throw new \RuntimeException(count($got) . " of $count events within $within s");
            });
            pcntl_alarm($within);
        }
        try {
            for ($i = 0; $i < $count; $i++) {
                if (isset(self::$started[$items])) {
                    $items->next();
                } else {
                    self::$started[$items] = true; // current() starts it: next() would skip the first
                }
                self::assertTrue($items->valid());
                $got[] = $items->current();
            }
        } finally {
            if ($alarm) {
                pcntl_alarm(0);
                pcntl_signal(SIGALRM, SIG_DFL);
            }
        }
        return $got;
    }

    /**
     * @param list<LifecycleEvent|Missed> $items
     * @return list<LifecycleEvent>
     */
    private static function lifecycle(array $items): array
    {
        foreach ($items as $item) {
            self::assertInstanceOf(LifecycleEvent::class, $item);
        }
        return $items;
    }

    private static function subject(): string
    {
        return 'user-' . bin2hex(random_bytes(8));
    }

    public function testEveryKindOfEventArrivesWithItsHandleSubjectDeviceAndTime(): void
    {
        $server = SessiondServer::start('--max-sessions-per-subject', '1', '--sweep-interval', '1s');
        try {
            $client = new Client($server->url);
            $who = self::subject();
            $started = new \DateTimeImmutable('-1 second');
            $a = self::createWithDevice($server->url, $who, ['ua' => 'phpunit']);
            $b = $client->rotate($a);
            $client->delete($b->sid);
            $c = $client->create([], subject: $who);
            $client->revokeHandle($who, $c->handle());
            $d = $client->create([], subject: $who);
            $e = $client->create([], subject: $who); // the subject's second: d is evicted
            $f = $client->create([], lifetime: 1);   // expires within the sweep's second
            $items = $client->events('0');
            $got = self::lifecycle(self::take($items, 10));
            unset($items);
            self::assertSame([
                ['created', Client::handleFor($a)], ['rotated', $b->handle()], ['deleted', $b->handle()],
                ['created', $c->handle()], ['revoked', $c->handle()],
                ['created', $d->handle()], ['limit_evicted', $d->handle()], ['created', $e->handle()],
                ['created', $f->handle()], ['expired', $f->handle()],
            ], array_map(static fn (LifecycleEvent $x): array => [$x->type, $x->handle], $got));
            self::assertEqualsCanonicalizing(LifecycleEvent::TYPES, array_values(array_unique(array_map(static fn ($x) => $x->type, $got))));
            $ids = array_map(static fn (LifecycleEvent $x): string => $x->id, $got);
            $sorted = $ids;
            sort($sorted);
            self::assertSame($sorted, $ids, 'IDs only grow');
            self::assertCount(10, array_unique($ids));
            self::assertSame([$who, ['ua' => 'phpunit'], null], [$got[0]->subject, $got[0]->device, $got[0]->from]);
            self::assertSame([Client::handleFor($a), $who], [$got[1]->from, $got[1]->subject]);
            self::assertSame([null, null], [$got[8]->subject, $got[8]->device]);
            self::assertGreaterThanOrEqual($got[8]->time, $got[9]->time, 'the expiry itself');
            foreach ($got as $event) {
                self::assertGreaterThanOrEqual($started, $event->time);
                foreach ([$a, $b->sid, $c->sid, $d->sid, $e->sid, $f->sid] as $sid) {
                    self::assertStringNotContainsString($sid, json_encode($event->raw), 'a handle, never a sid');
                }
            }
        } finally {
            $server->stop();
        }
    }

    /**
     * A session with device metadata (which Client::create() does not send): its sid.
     *
     * @param array<string, string> $device
     */
    private static function createWithDevice(string $url, string $subject, array $device): string
    {
        $curl = curl_init("$url/sessions");
        curl_setopt_array($curl, [
            CURLOPT_POSTFIELDS => json_encode(['data' => ['secret' => 1], 'subject' => $subject, 'device' => $device]),
            CURLOPT_HTTPHEADER => ['Content-Type: application/json'], CURLOPT_RETURNTRANSFER => true, CURLOPT_PROXY => '',
        ]);
        $body = json_decode((string) curl_exec($curl), true);
        self::assertSame(201, curl_getinfo($curl, CURLINFO_RESPONSE_CODE));
        return $body['sid'];
    }

    public function testWithoutAnIdTheStreamStartsWithTheNextEvent(): void
    {
        $server = SessiondServer::start();
        $file = (string) tempnam(sys_get_temp_dir(), 'handles-');
        $creator = null;
        try {
            $client = new Client($server->url);
            $before = $client->create();
            // The stream opens when the generator starts, at a moment unknown here: another
            // process creates a session every 300 ms until this one has read an event.
            $script = 'require $argv[1]; $c = new Sessiond\Client($argv[2]); for ($i = 0; $i < 100; $i++) { usleep(300000); '
                . 'file_put_contents($argv[3], $c->create()->handle() . "\n", FILE_APPEND); }';
            $creator = proc_open([PHP_BINARY, '-r', $script, dirname(__DIR__) . '/autoload.php', $server->url, $file], [], $pipes);
            $items = $client->events();
            [$event] = self::lifecycle(self::take($items, 1));
            unset($items);
            self::assertNotSame($before->handle(), $event->handle);
            self::assertContains($event->handle, explode("\n", (string) file_get_contents($file)));
        } finally {
            if (is_resource($creator)) {
                proc_terminate($creator);
                proc_close($creator);
            }
            @unlink($file);
            $server->stop();
        }
    }

    public function testACutConnectionIsResumedFromTheLastIdWithoutLossOrDuplicate(): void
    {
        $server = SessiondServer::start();
        $relay = new Relay($server->port);
        try {
            $client = new Client($relay->url);
            $direct = new Client($server->url);
            $made = [];
            for ($i = 0; $i < 3; $i++) {
                $made[] = $direct->create()->handle();
            }
            $items = $client->events('0');
            $got = self::take($items, 3);
            $relay->cut();
            for ($i = 0; $i < 2; $i++) {
                $made[] = $direct->create()->handle(); // while the stream is down
            }
            $cutAt = microtime(true);
            array_push($got, ...self::take($items, 2));
            self::assertGreaterThanOrEqual(0.9, microtime(true) - $cutAt, 'the server\'s "retry: 1000" was waited');
            $made[] = $direct->create()->handle(); // and the resumed stream goes on live
            array_push($got, ...self::take($items, 1));
            unset($items);
            $got = self::lifecycle($got);
            self::assertSame($made, array_map(static fn (LifecycleEvent $x): string => $x->handle, $got));
            $ids = array_map(static fn (LifecycleEvent $x): string => $x->id, $got);
            self::assertCount(6, array_unique($ids));
            $requests = $relay->eventRequests();
            self::assertCount(2, $requests);
            self::assertStringContainsString("\r\nLast-Event-ID: 0\r\n", $requests[0]);
            self::assertStringContainsString("\r\nAccept: text/event-stream\r\n", $requests[0]);
            self::assertStringContainsString("\r\nLast-Event-ID: {$ids[2]}\r\n", $requests[1]);
        } finally {
            $relay->stop();
            $server->stop();
        }
    }

    public function testARestartOfSessiondIsResumedWithAMissedNotice(): void
    {
        $server = SessiondServer::start();
        try {
            $client = new Client($server->url);
            $first = $client->create();
            $items = $client->events('0');
            [$event] = self::lifecycle(self::take($items, 1));
            self::assertSame($first->handle(), $event->handle);
            $server->stop(); // the stream ends cleanly; the embedded store's history goes with the process
            $server = SessiondServer::startAt($server->port);
            $after = $client->create();
            $got = self::take($items, 2, 30);
            unset($items);
            self::assertInstanceOf(Missed::class, $got[0]);
            self::assertSame($event->id, $got[0]->after);
            self::assertNotEmpty($got[0]->detail);
            self::assertInstanceOf(LifecycleEvent::class, $got[1]);
            self::assertSame($after->handle(), $got[1]->handle);
        } finally {
            $server->stop();
        }
    }

    public function testLeavingTheLoopClosesTheConnection(): void
    {
        $server = SessiondServer::start();
        $relay = new Relay($server->port);
        try {
            $client = new Client($relay->url);
            $made = $client->create();
            $seen = [];
            foreach ($client->events('0') as $item) {
                $seen[] = $item;
                self::assertSame(1, $relay->openStreams(), 'the stream is open while the loop runs');
                $client->get($made->sid); // the client's other calls work inside the loop
                break;
            }
            self::assertSame([$made->handle()], array_map(static fn ($x) => $x->handle, self::lifecycle($seen)));
            self::waitNoStreams($relay);

            $items = $client->events('0');
            self::take($items, 1);
            self::assertSame(1, $relay->openStreams());
            unset($items); // dropping the generator closes it too
            self::waitNoStreams($relay);
        } finally {
            $relay->stop();
            $server->stop();
        }
    }

    private static function waitNoStreams(Relay $relay): void
    {
        $deadline = microtime(true) + 5;
        while ($relay->openStreams() !== 0) {
            self::assertLessThan($deadline, microtime(true), 'the stream\'s connection is still open');
            usleep(20_000);
        }
    }

    public function testEventsOffAndAMalformedIdAreThrownAtOnceNotRetried(): void
    {
        $server = SessiondServer::start('--event-history', '0');
        try {
            $client = new Client($server->url);
            $started = microtime(true);
            try {
                $client->events()->current();
                self::fail('events-off was not thrown');
            } catch (ProblemException $error) {
                self::assertSame(501, $error->status);
                self::assertSame('events-off', $error->slug);
            }
            self::assertLessThan(1.0, microtime(true) - $started);
            try {
                $client->events('yesterday')->current();
                self::fail('a malformed ID was taken');
            } catch (BadRequestException $error) {
                self::assertSame('malformed-event-id', $error->slug);
                self::assertMatchesRegularExpression('#^GET http://127\.0\.0\.1:\d+/events: #', $error->getMessage());
            }
        } finally {
            $server->stop();
        }
    }

    public function testAServerThatCannotBeReachedAtFirstIsUnavailable(): void
    {
        $client = new Client('http://127.0.0.1:' . SessiondServer::freePort(), timeout: 1.0);
        try {
            $client->events()->current();
            self::fail('no server, yet a stream');
        } catch (UnavailableException $error) {
            self::assertNull($error->status);
            self::assertInstanceOf(SessiondException::class, $error);
            self::assertStringContainsString('cannot be reached', $error->getMessage());
        }
    }

    public function testTheApiKeyIsSentAndOpensItsNamespaceOnly(): void
    {
        $keys = ['shop' => bin2hex(random_bytes(20)), 'blog' => bin2hex(random_bytes(20))];
        $file = (string) tempnam(sys_get_temp_dir(), 'keys-');
        file_put_contents($file, "shop:{$keys['shop']}\nblog:{$keys['blog']}\n");
        chmod($file, 0600);
        $server = SessiondServer::start('--api-keys-file', $file);
        $relay = new Relay($server->port);
        try {
            foreach ($keys as $key) {
                $client = new Client($relay->url, apiKey: $key);
                $made = $client->create();
                $items = $client->events('0');
                [$event] = self::lifecycle(self::take($items, 1));
                unset($items);
                self::assertSame($made->handle(), $event->handle);
                $requests = $relay->eventRequests();
                self::assertStringContainsString("\r\nAuthorization: Bearer $key\r\n", end($requests));
            }
            foreach ([null, str_repeat('c', 40)] as $wrong) {
                try {
                    (new Client($server->url, apiKey: $wrong))->events()->current();
                    self::fail('a stream without the right key');
                } catch (UnauthorizedException $error) {
                    self::assertStringNotContainsString($keys['shop'], $error->getMessage());
                }
            }
        } finally {
            $relay->stop();
            $server->stop();
            unlink($file);
        }
    }

    // MARK: - Stubs

    public function testASilentStreamIsReopened(): void
    {
        $stub = new EventStub([
            EventStub::stream("retry: 50\n\n" . EventStub::created('1-0') . ": keep-alive\n\n", hold: true),
            EventStub::stream(EventStub::created('2-0'), hold: true),
        ]);
        try {
            $client = new Client($stub->url);
            (new \ReflectionProperty(Client::class, 'eventsIdleTimeout'))->setValue($client, 0.3);
            $items = $client->events();
            $got = self::lifecycle(self::take($items, 2, 10));
            unset($items);
            self::assertSame(['1-0', '2-0'], array_map(static fn ($x) => $x->id, $got));
            $requests = $stub->requests();
            self::assertSame([null, '1-0'], array_column($requests, 'lastEventId'));
            self::assertGreaterThanOrEqual(0.3, $requests[1]['time'] - $requests[0]['time']);
        } finally {
            $stub->stop();
        }
    }

    public function testReconnectingRespectsRetryAfterAndStopsAtA401(): void
    {
        $stub = new EventStub([
            EventStub::stream("retry: 10\n\n" . EventStub::created('1-0')), // then it ends
            EventStub::problem(503, 'store-unavailable', ['Retry-After' => '1']),
            EventStub::stream(EventStub::created('2-0')),
            EventStub::problem(401, 'unauthorized'),
        ]);
        try {
            $items = (new Client($stub->url))->events('0');
            self::assertSame(['1-0', '2-0'], array_map(static fn ($x) => $x->id, self::lifecycle(self::take($items, 2, 10))));
            try {
                $items->next();
                self::fail('an event after a 401');
            } catch (UnauthorizedException) {
            }
            self::assertFalse($items->valid());
            $requests = $stub->requests();
            self::assertSame(['0', '1-0', '1-0', '2-0'], array_column($requests, 'lastEventId'));
            self::assertLessThan(0.9, $requests[1]['time'] - $requests[0]['time'], 'retry: 10 was taken');
            self::assertGreaterThanOrEqual(1.0, $requests[2]['time'] - $requests[1]['time'], 'Retry-After: 1 was waited');
        } finally {
            $stub->stop();
        }
    }

    public function testAFrameThatIsNotAnEventIsThrownNotRetried(): void
    {
        $stub = new EventStub([EventStub::stream(EventStub::created('1-0') . "id: 2-0\nevent: created\ndata: not json\n\n")]);
        try {
            $items = (new Client($stub->url))->events();
            self::assertSame('1-0', self::lifecycle(self::take($items, 1))[0]->id);
            $this->expectException(UnavailableException::class);
            $this->expectExceptionMessage('not a JSON object');
            $items->next();
        } finally {
            $stub->stop();
        }
    }

    public function testAnAnswerThatIsNotAStreamIsThrown(): void
    {
        $stub = new EventStub([['status' => 200, 'headers' => ['Content-Type' => 'application/json'], 'body' => '{}']]);
        try {
            $this->expectException(UnavailableException::class);
            $this->expectExceptionMessage('answered 200 with application/json, not an event stream');
            (new Client($stub->url))->events()->current();
        } finally {
            $stub->stop();
        }
    }

    public function testTheAnswerMustComeWithinTheTimeout(): void
    {
        $server = SessiondServer::start();
        try {
            $server->pause();
            $started = microtime(true);
            try {
                (new Client($server->url, timeout: 0.3))->events()->current();
                self::fail('a paused server answered');
            } catch (UnavailableException $error) {
                self::assertStringContainsString('did not answer within 0.3 s', $error->getMessage());
            }
            self::assertLessThan(2.0, microtime(true) - $started);
        } finally {
            $server->stop();
        }
    }
}
