<?php

declare(strict_types=1);

namespace Sessiond\Tests;

use PHPUnit\Framework\TestCase;
use Sessiond\Client;
use Sessiond\Exception\BadRequestException;
use Sessiond\Exception\InvalidSessionDataException;
use Sessiond\Exception\PreconditionFailedException;
use Sessiond\Exception\ProblemException;
use Sessiond\Exception\SessiondException;
use Sessiond\Exception\SessionExistsException;
use Sessiond\Exception\SessionNotFoundException;
use Sessiond\Exception\UnauthorizedException;
use Sessiond\Exception\UnavailableException;
use Sessiond\Exception\UnprocessableContentException;
use Sessiond\Tests\Support\SessiondServer;

/**
 * The client against the real binary: every call, its answers and its errors.
 */
final class ClientTest extends TestCase
{
    private Client $client;

    protected function setUp(): void
    {
        $this->client = new Client(SessiondServer::sharedUrl());
    }

    public function testCreateGetAndPlainJsonValues(): void
    {
        $data = ['user' => 42, 'cart' => [1, 2], 'prefs' => ['theme' => 'dark'], 'ratio' => 0.1, 'whole' => 1.0,
            'big' => PHP_INT_MAX, 'name' => 'café', 'none' => null, 'yes' => true];
        $s = $this->client->create($data, permanent: true, subject: 'user-42');
        self::assertMatchesRegularExpression(Client::SID_PATTERN, $s->sid);
        self::assertSame(1, $s->version);
        self::assertSame('"1"', $s->etag());
        self::assertTrue($s->permanent);
        self::assertSame('user-42', $s->subject);
        self::assertNull($s->lifetime);
        self::assertSame(31 * 86400, $s->ttl);
        self::assertInstanceOf(\DateTimeImmutable::class, $s->expiresAt);
        self::assertGreaterThan($s->createdAt, $s->expiresAt);

        $read = $this->client->get($s->sid);
        self::assertSame($data, $read->data);
        // Exact JSON types: a float stays a float (1.0, not 1), objects are objects.
        self::assertSame(1.0, $read->dataObject->whole);
        self::assertInstanceOf(\stdClass::class, $read->dataObject->prefs);
        self::assertSame(['user', 'cart', 'prefs', 'ratio', 'whole', 'big', 'name', 'none', 'yes'], array_keys($read->raw['data']));
    }

    public function testEmptyDataIsAnObjectAndListsStayLists(): void
    {
        $s = $this->client->create();
        self::assertSame([], $s->data);
        self::assertEquals(new \stdClass(), $s->dataObject);
        $s = $this->client->create([7, 8]); // a PHP list as session data: an object {"0": 7, "1": 8}
        self::assertEquals((object) ['0' => 7, '1' => 8], $this->client->get($s->sid)->dataObject);
    }

    public function testCreateUnderAnAppMintedSid(): void
    {
        $sid = Client::newSid();
        self::assertMatchesRegularExpression('/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/', $sid);
        $s = $this->client->create(['a' => 1], lifetime: 300, sid: $sid);
        self::assertSame($sid, $s->sid);
        self::assertSame(300, $s->lifetime);
        self::assertSame(300, $s->ttl);

        try {
            $this->client->create(['a' => 2], sid: $sid);
            self::fail('a second create under one sid');
        } catch (SessionExistsException $error) {
            self::assertSame(412, $error->status);
            self::assertSame('session-exists', $error->slug);
            self::assertInstanceOf(PreconditionFailedException::class, $error);
        }
        self::assertSame(['a' => 1], $this->client->get($sid)->data);

        $this->expectException(BadRequestException::class);
        $this->client->create([], sid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427'); // version 1: refused
    }

    public function testPatchMergesAndKeepsWhatItDoesNotName(): void
    {
        $s = $this->client->create(['a' => 1, 'b' => ['x' => 1, 'y' => 2]], subject: 'p-1');
        $s = $this->client->patch($s->sid, ['data' => ['a' => null, 'b' => ['y' => null, 'z' => 3], 'c' => 'new']]);
        self::assertSame(['b' => ['x' => 1, 'z' => 3], 'c' => 'new'], $s->data);
        self::assertSame(2, $s->version);
        self::assertSame('p-1', $s->subject);

        $s = $this->client->patch($s->sid, ['lifetime' => 600, 'subject' => null]);
        self::assertSame(600, $s->lifetime);
        self::assertNull($s->subject);
        $s = $this->client->patch($s->sid, ['permanent' => true]);
        self::assertSame(600, $s->lifetime, 'a patch that does not name the lifetime keeps it');
        $s = $this->client->patch($s->sid, ['lifetime' => null]);
        self::assertNull($s->lifetime);
        self::assertSame(31 * 86400, $s->ttl);
        // An object whose keys look like a list is sent as an object when given as a stdClass.
        $s = $this->client->patch($s->sid, ['data' => ['b' => (object) ['0' => 'zero']]]);
        self::assertEquals((object) ['x' => 1, 'z' => 3, '0' => 'zero'], $s->dataObject->b);
    }

    public function testReplaceWithIfMatch(): void
    {
        $s = $this->client->create(['n' => 1], subject: 'r-1', lifetime: 120);
        $s2 = $this->client->replace($s->sid, ['n' => 2], ifMatch: $s->version);
        self::assertSame(['n' => 2], $s2->data);
        self::assertNull($s2->subject, 'a PUT states the whole session');
        self::assertNull($s2->lifetime);

        try {
            $this->client->replace($s->sid, ['n' => 3], ifMatch: $s->version);
            self::fail('a stale If-Match');
        } catch (PreconditionFailedException $error) {
            self::assertNotInstanceOf(SessionExistsException::class, $error);
            self::assertSame(2, $error->currentVersion);
            self::assertSame('precondition-failed', $error->slug);
        }
        self::assertSame(3, $this->client->replace($s->sid, ['n' => 3], ifMatch: [1, 2])->version);
        self::assertSame(4, $this->client->replace($s->sid, ['n' => 4], ifMatch: '*')->version);
        self::assertSame(5, $this->client->patch($s->sid, ['data' => ['n' => 5]], ifMatch: '"4"')->version);

        $this->expectException(SessionNotFoundException::class);
        $this->client->replace(Client::newSid(), ['n' => 1]); // a PUT never creates
    }

    public function testTouchRotateDelete(): void
    {
        $s = $this->client->create(['a' => 1], subject: 'rot-1', lifetime: 100);
        usleep(20_000);
        $t = $this->client->touch($s->sid);
        self::assertSame($s->version, $t->version, 'a touch writes nothing');
        self::assertGreaterThan($s->expiresAt, $t->expiresAt);

        $r = $this->client->rotate($s->sid);
        self::assertNotSame($s->sid, $r->sid);
        self::assertSame(['a' => 1], $r->data);
        self::assertSame('rot-1', $r->subject);
        self::assertSame(100, $r->lifetime);
        self::assertSame($s->version + 1, $r->version);
        self::assertEquals($s->createdAt, $r->createdAt);
        try {
            $this->client->get($s->sid);
            self::fail('the old sid still answers');
        } catch (SessionNotFoundException $error) {
            self::assertSame(404, $error->status);
            self::assertStringNotContainsString($s->sid, $error->getMessage(), 'messages never carry a sid');
            self::assertStringContainsString('/sessions/{sid}', $error->getMessage());
        }

        $this->client->delete($r->sid);
        $this->client->delete($r->sid); // already gone: fine
        $this->expectException(SessionNotFoundException::class);
        $this->client->touch($r->sid);
    }

    public function testGetWithTouchSlidesTheExpiry(): void
    {
        $s = $this->client->create(['a' => 1]);
        usleep(20_000);
        self::assertEquals($s->expiresAt, $this->client->get($s->sid)->expiresAt);
        self::assertGreaterThan($s->expiresAt, $this->client->get($s->sid, touch: true)->expiresAt);
    }

    public function testSubjects(): void
    {
        $subject = 'user/' . bin2hex(random_bytes(4)); // a slash: percent-encoded in the path
        $a = $this->client->create(['d' => 'a'], subject: $subject);
        $b = $this->client->create(['d' => 'b'], subject: $subject);
        $c = $this->client->create(['d' => 'c'], subject: $subject);
        $listed = $this->client->subjectSessions($subject);
        // Oldest first; sessions made within one millisecond may come in any order.
        self::assertEqualsCanonicalizing([$a->handle(), $b->handle(), $c->handle()], array_map(static fn ($s) => $s->handle, $listed));
        self::assertSame(Client::handleFor($a->sid), $a->handle());
        self::assertSame([86400, 86400, 86400], array_map(static fn ($s) => $s->ttl, $listed));
        self::assertFalse($listed[0]->permanent);

        $this->client->revokeHandle($subject, $b->handle());
        self::assertSame(1, $this->client->revokeSubject($subject, exceptHandle: $a->handle()));
        self::assertSame(['d' => 'a'], $this->client->get($a->sid)->data);
        self::assertSame(1, $this->client->revokeSubject($subject));
        self::assertSame([], $this->client->subjectSessions($subject));
    }

    public function testLifetimeTooLongAndValuesJsonCannotHold(): void
    {
        try {
            $this->client->create([], lifetime: 32 * 86400);
            self::fail('a lifetime over --max-lifetime');
        } catch (UnprocessableContentException $error) {
            self::assertSame('lifetime-too-long', $error->slug);
            self::assertSame(422, $error->status);
        }
        try {
            $this->client->create(['x' => NAN]);
            self::fail('NAN was sent');
        } catch (InvalidSessionDataException $error) {
            self::assertInstanceOf(SessiondException::class, $error);
        }
        $this->expectException(InvalidSessionDataException::class);
        $this->client->create(['x' => "\xff\xfe"]);
    }

    public function testMalformedSidIsBadRequestNeverAPath(): void
    {
        foreach (['not-a-sid', '../../readyz', '1B4E28BA-2FA1-41D2-883F-0016D3CCA427'] as $sid) {
            try {
                $this->client->get($sid);
                self::fail("$sid was taken");
            } catch (BadRequestException $error) {
                self::assertSame('malformed-sid', $error->slug);
            }
        }
    }

    public function testConnectionIsKeptAlive(): void
    {
        $s = $this->client->create(['n' => 0]);
        $connections = [];
        for ($i = 1; $i <= 20; $i++) {
            $this->client->patch($s->sid, ['data' => ['n' => $i]]);
            $connections[] = self::localPort($this->client);
        }
        self::assertCount(1, array_unique($connections), 'one connection for every call');
        self::assertSame(20, $this->client->get($s->sid)->data['n']);
        self::assertTrue($this->client->ready());
    }

    public function testConnectionRefusedIsUnavailableNeverNotFound(): void
    {
        $client = new Client('http://127.0.0.1:' . SessiondServer::freePort(), timeout: 1.0);
        try {
            $client->get(Client::newSid());
            self::fail('no server, yet an answer');
        } catch (UnavailableException $error) {
            self::assertNull($error->status);
            self::assertStringContainsString('cannot be reached', $error->getMessage());
        }
        self::assertFalse($client->ready());
    }

    public function testTimeoutIsUnavailable(): void
    {
        $server = SessiondServer::start();
        try {
            $client = new Client($server->url, timeout: 0.3);
            $s = $client->create(['a' => 1]);
            $server->pause();
            $started = microtime(true);
            try {
                $client->get($s->sid);
                self::fail('a paused server answered');
            } catch (UnavailableException $error) {
                self::assertStringContainsString('did not answer within 0.3 s', $error->getMessage());
            }
            self::assertLessThan(2.0, microtime(true) - $started);
            $server->resume();
            self::assertSame(['a' => 1], $client->get($s->sid)->data, 'the client recovers on a new connection');
        } finally {
            $server->stop();
        }
    }

    public function testStoreOutageIs503WithRetryAfter(): void
    {
        // On Redis that does not answer, every session call is 503 store-unavailable.
        $server = SessiondServer::startUnready('--store', 'redis', '--redis-url', 'redis://127.0.0.1:' . SessiondServer::freePort() . '/0');
        try {
            $client = new Client($server->url);
            try {
                $client->create(['a' => 1]);
                self::fail('a store that is down stored a session');
            } catch (UnavailableException $error) {
                self::assertSame(503, $error->status);
                self::assertSame(1, $error->retryAfter);
                self::assertSame('https://sessiond.dev/problems/store-unavailable', $error->problem['type']);
            }
        } finally {
            $server->stop();
        }
    }

    public function testApiKey(): void
    {
        $key = bin2hex(random_bytes(20));
        $file = (string) tempnam(sys_get_temp_dir(), 'keys-');
        file_put_contents($file, "shop:$key\n");
        chmod($file, 0600);
        $server = SessiondServer::start('--api-keys-file', $file);
        try {
            $s = (new Client($server->url, apiKey: $key))->create(['a' => 1]);
            self::assertSame(['a' => 1], (new Client($server->url, apiKey: $key))->get($s->sid)->data);
            foreach ([null, str_repeat('x', 40)] as $wrong) {
                try {
                    (new Client($server->url, apiKey: $wrong))->get($s->sid);
                    self::fail('a call without the right key was served');
                } catch (UnauthorizedException $error) {
                    self::assertSame(401, $error->status);
                    self::assertInstanceOf(ProblemException::class, $error);
                    self::assertStringNotContainsString($key, $error->getMessage());
                }
            }
        } finally {
            $server->stop();
            unlink($file);
        }
    }

    public function testUrlWithPathPrefixAndBadUrls(): void
    {
        $client = new Client(SessiondServer::sharedUrl() . '/');
        self::assertTrue($client->ready());
        $this->expectException(\InvalidArgumentException::class);
        new Client('ftp://127.0.0.1');
    }

    /** The local port of the connection the client's curl handle used last. */
    private static function localPort(Client $client): int
    {
        $curl = (new \ReflectionProperty(Client::class, 'curl'))->getValue($client);
        self::assertInstanceOf(\CurlHandle::class, $curl);
        return (int) curl_getinfo($curl, CURLINFO_LOCAL_PORT);
    }
}
