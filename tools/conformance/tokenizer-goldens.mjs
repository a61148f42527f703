// Tokenizer goldens for SmolVLM-256M-Instruct, produced with transformers.js (AutoTokenizer) from the
// real tokenizer files, cross-checked against the Rust `tokenizers` library (npm `tokenizers`, the
// official Node binding of the same Rust crate that Python `tokenizers` wraps).
//
// Output (relative to the repo root):
//   tests/TestData/golden/tokenizer/smolvlm-256m-instruct.jsonl
//       {"text": "...", "ids": [...]}   one per line; transformers.js == Rust tokenizers for all of them
//   tests/TestData/golden/tokenizer/smolvlm-256m-instruct_js-divergent.jsonl
//       {"text", "ids" (Rust/Python tokenizers), "transformersjs_ids", "note"} where the two disagree
//
// All ids are encoded with add_special_tokens=false (this tokenizer has no post-processor anyway).
//
// Usage: node tokenizer-goldens.mjs [--check]   (--check: compare with the committed files, write nothing)

import path from 'node:path';
import fs from 'node:fs';
import { env, AutoTokenizer } from '@huggingface/transformers';
import { REPO_ROOT, MODEL_ID, stageReferenceFiles, configureOffline, writeJsonl, toJsonLine, mulberry32 } from './common.mjs';

const OUT_DIR = path.join(REPO_ROOT, 'tests', 'TestData', 'golden', 'tokenizer');
const OUT_MAIN = path.join(OUT_DIR, 'smolvlm-256m-instruct.jsonl');
const OUT_DIVERGENT = path.join(OUT_DIR, 'smolvlm-256m-instruct_js-divergent.jsonl');

// Cases whose ids are known from Python `tokenizers` (given with the task).
const EXPECTED = [
    { text: 'a  b', ids: [81, 216, 278] },
    { text: '  x', ids: [216, 1792] },
    { text: 'line1\n\nline2', ids: null }, // required case; ids not given, checked against Rust tokenizers
];

// ---------------------------------------------------------------------------------------------
// Case list (deterministic). Order matters only for readability of the output; duplicates dropped.
// ---------------------------------------------------------------------------------------------
function buildCases() {
    const c = [];
    const add = (...xs) => c.push(...xs);

    // Required exact cases first.
    add('a  b', '  x', 'line1\n\nline2');

    // --- runs of spaces, leading/trailing spaces ------------------------------------------------
    for (let n = 1; n <= 8; n++) {
        const s = ' '.repeat(n);
        add(s, `a${s}b`, `${s}x`, `x${s}`, `${s}hello world${s}`, `a${s}\nb`, `a\n${s}b`, `${s}1`, `${s}!`, `${s}<image>`);
    }
    add(' a', 'a ', ' a ', '  hello  ', 'hello world', 'hello  world', 'hello   world', ' hello world ', 'a b c d e f');

    // --- tabs ----------------------------------------------------------------------------------------
    add('\t', '\t\t', '\t\t\t\t', 'a\tb', '\tindent', 'trail\t', 'a \t b', '\t x', 'x \t', 'tab\there', 'a\t\tb', '\t\n', ' \t ');

    // --- newlines, blank lines, CR/LF ---------------------------------------------------------------
    add('\n', '\n\n', '\n\n\n', '\n\n\n\n', 'a\nb', 'a\n\nb', 'a\n\n\nb', 'a\n\n\n\nb', 'a\n \nb', 'a \n b', 'a\n  \n  \nb');
    add('\r', '\r\n', '\r\n\r\n', 'a\r\nb', 'a\r\n\r\nb', 'a\rb', 'a\r\rb', 'crlf\r\nline', 'two\n\nlines', ' \n', '\n ', '\n\nx', 'x\n\n');
    add('para one.\n\npara two.\n\n\npara three.', 'end\n', '\nstart', 'a\n\tb', 'a\r\n\tb', '\n\r', 'a\n\rb');

    // --- mixed whitespace (ASCII) -------------------------------------------------------------------
    add(' \t\n\r\n \u000b\u000c', '\u000b', '\u000c', 'a\u000bb', 'a\u000cb', ' \n \n ', '\t \t \n', 'word \n\t word', '  \n\n  x  \n\n  ');

    // --- digits ---------------------------------------------------------------------------------------
    for (let d = 0; d <= 9; d++) add(String(d));
    add('42', '1234567890', '123456789012345678901234567890', ' 123', '  123', 'abc123', '123abc', 'a1b2c3', 'x1', '1x');
    add('3.14', '-3.14', '-42', '+1', '1,000,000', '1e10', '6.022e23', '0x1F', '0b1010', 'v1.2.3', '2024-01-15', '12:34:56');
    add('$100', '50%', '100km/h', '#1', 'No.5', 'digits 12345 and 3.14', '007', '3/4', '1st 2nd 3rd 4th', 'COVID-19', 'H2O');
    add('\uff11\uff12\uff13', '\u0663\u0664\u0665', '\u0967\u0968', '\u00b2\u00b3', '\u00bd', '\u216b', '\u2460\u2461', '\ud835\udfcf\ud835\udfd0');

    // --- punctuation --------------------------------------------------------------------------------
    for (const p of '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~') add(p);
    add('!!!', '...', '?!', 'a.b', 'Hello, world!', '(a)', '[x]', '{y}', '"quoted"', "'single'", '`backtick`', 'a-b', 'a_b', 'a--b');
    add('\u2014', '\u2026', '\u00ab\u00bb', '\u00bfQu\u00e9?', '\u00a1Hola!', '->', '=>', '!=', '<=', 'a<b', 'a>b', '<>', '< image >', '<imag', 'image>');
    add('\u201cquoted\u201d', '\u2018x\u2019', 'end.', 'end. ', 'Mr. Smith', 'e.g.', 'i.e.,', '...and', '!!!???', '@user', '#hashtag', '~/path');

    // --- contractions ---------------------------------------------------------------------------------
    add("it's", "don't", "you're", "we've", "I'm", "we'll", "he'd", "IT'S", "DON'T", "YOU'RE", "WE'VE", "I'M", "WE'LL", "HE'D");
    add("It'S", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", " 's", "''s", "rock'n'roll", "O'Neil", "y'all", "dogs'", "'quoted'");
    add('it\u2019s', "can't won't shan't", "I'd've", "'S", "'T", "x'sy", "5's", "'s's", "John's book's cover", "it 's", "it' s");

    // --- accents, NFC vs NFD, normalization-sensitive -------------------------------------------------
    add('\u00e9', 'e\u0301', 'caf\u00e9', 'cafe\u0301', 'na\u00efve', 'nai\u0308ve', '\u00c5ngstr\u00f6m', 'A\u030angstro\u0308m');
    add('\u00fcber', 'u\u0308ber', '\u00dcn\u00efc\u00f6d\u00e9 na\u00efve caf\u00e9', 'U\u0308ni\u0308co\u0308de\u0301', '\u00f1', 'n\u0303');
    add('\u00df', 'STRASSE stra\u00dfe', '\u01c5', '\ufb01', '\u212b', '\uff48\uff45\uff4c\uff4c\uff4f', '\u0301', ' \u0301', 'a\u0301\u0302\u0303');
    add('Ti\u1ebfng Vi\u1ec7t', '\u0130stanbul \u0131i', 'Cr\u00e8me br\u00fbl\u00e9e', 'fa\u00e7ade', 'Z\u00fcrich', 'S\u00e3o Paulo', '\u0141\u00f3d\u017a');

    // --- non-Latin scripts ----------------------------------------------------------------------------
    add('\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \u03ba\u03cc\u03c3\u03bc\u03b5', '\u03b1\u03b2\u03b3', '\u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2');
    add('\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!', '\u0451\u0436\u0438\u043a', '\u0423\u043a\u0440\u0430\u0457\u043d\u0430');
    add('\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645', '\u0627\u0644\u0639\u0631\u0628\u064a\u0629 123', '\u0634\u064f\u0643\u0652\u0631\u064b\u0627');
    add('\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd', '\u05e2\u05d1\u05e8\u05d9\u05ea abc', '\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e');
    add('\u0939\u093f\u0928\u094d\u0926\u0940', '\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e0a\u0e32\u0e27\u0e42\u0e25\u0e01', '\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22');
    add('\u4f60\u597d\uff0c\u4e16\u754c\uff01', '\u6211\u7231\u81ea\u7136\u8bed\u8a00\u5904\u7406', '\u4e2d\u6587 English \u6df7\u5408', '\u7e41\u9ad4\u4e2d\u6587');
    add('\u3053\u3093\u306b\u3061\u306f\u4e16\u754c', '\u30ab\u30bf\u30ab\u30ca', '\u65e5\u672c\u8a9e\u306e\u8cea\u554f\u3067\u3059\u304b\uff1f', '\uff76\uff80\uff76\uff85');
    add('\uc548\ub155\ud558\uc138\uc694 \uc138\uacc4', '\ud55c\uad6d\uc5b4', '\u1100\u1161\u11a8', '\u10e5\u10d0\u10e0\u10d7\u10e3\u10da\u10d8', '\u0540\u0561\u0575\u0565\u0580\u0565\u0576');
    add('\u0ba4\u0bae\u0bbf\u0bb4\u0bcd', '\u09ac\u09be\u0982\u09b2\u09be', 'English \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u05e2\u05d1\u05e8\u05d9\u05ea mixed', '\u1780\u17d2\u1798\u17c2\u179a', '\u13e3\u13b3\u13a9');

    // --- emoji and astral plane -----------------------------------------------------------------------
    add('\ud83d\ude00', '\ud83d\udc4d\ud83c\udffd', '\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66', '\ud83c\udff3\ufe0f\u200d\ud83c\udf08');
    add('\ud83c\uddef\ud83c\uddf5', '\ud83c\uddfa\ud83c\uddf8\ud83c\uddec\ud83c\udde7', '\u2764\ufe0f', '\u263a\ufe0e', '\ud83d\udce6\ud83d\ude9a', 'emoji \ud83d\udce6\ud83d\ude9a count?');
    add('\ud835\udc00\ud835\udc01\ud835\udc02', '\ud835\udd18\ud835\udd2b\ud835\udd26\ud835\udd20\ud835\udd2c\ud835\udd21\ud835\udd22', '\ud83e\uddd1\ud83c\udfff\u200d\ud83d\udcbb');
    add('#\ufe0f\u20e3', 'keycap 1\ufe0f\u20e3', '\ud840\udc00\ud841\udf0e', '\ud800\udf30', '\ud83c\udc04', '\ud834\udd1e', 'a\ud83d\ude00b', ' \ud83d\ude00 ');
    add('\ud83d\ude00\ud83d\ude00\ud83d\ude00', 'I \u2764\ufe0f NY', '\ud83d\udc4b\ud83c\udffb\ud83d\udc4b\ud83c\udffc\ud83d\udc4b\ud83c\udffd\ud83d\udc4b\ud83c\udffe\ud83d\udc4b\ud83c\udfff', '\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc73\udb40\udc63\udb40\udc74\udb40\udc7f');
    add('\u00a9\u00ae\u2122', '\u2603', '\u2600\ufe0f', 'ok\ud83d\udc4c.', '\ud83d\ude00!', '\ud83d\ude00123', '\udbff\udffd');

    // --- control characters and Unicode spaces --------------------------------------------------------
    const controls = [];
    for (let i = 0; i <= 0x1f; i++) controls.push(String.fromCharCode(i));
    controls.push('\u007f', '\u0080', '\u0085', '\u009f', '\u00a0', '\u00ad', '\u1680', '\u180e');
    for (let i = 0x2000; i <= 0x200f; i++) controls.push(String.fromCharCode(i));
    controls.push('\u2028', '\u2029', '\u202f', '\u205f', '\u2060', '\u3000', '\ufeff', '\ufffd', '\ufffc');
    for (const ch of controls) add(ch, `a${ch}b`, `a${ch} b`, `${ch}x`, `x ${ch}`);
    add('a\u00a0\u00a0b', 'a \u00a0 b', '\u3000\u3000\u65e5\u672c', 'x\u2028y\u2029z', 'a\u0000\u0000b', 'tab\u0009nul\u0000bell\u0007', 'a\u200b\u200bb');

    // --- special tokens written in the text -----------------------------------------------------------
    add('<image>', '<end_of_utterance>', '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<fake_token_around_image>', '<global-img>');
    add('<row_1_col_1>', '<row_4_col_4>', '<row_6_col_6>', '<row_7_col_1>', 'a<image>b', ' <image> ', '<image><image>', '<image>\n');
    add('User:<image>What?<end_of_utterance>\nAssistant:', '<|im_start|>User: hi<end_of_utterance>\nAssistant:', '<IMAGE>', '<image', 'image');
    add('<|reserved_special_token_0|>', '<|reserved_special_token_87|>', '<row_1_col_1><image>', '<fake_token_around_image><global-img><image><fake_token_around_image>');
    add('x<end_of_utterance>y', '  <image>  ', '\n<image>\n', '<image>123', '<<image>>', '<im<image>age>', '<file_sep>', '<jupyter_code>x = 1', '<|im_start|><|im_end|>');

    // --- code, JSON, URLs -----------------------------------------------------------------------------
    add('def f(x):\n    return x * 2\n', 'for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}', 'const x = () => { return 42; };');
    add('public static void Main(string[] args)\n{\n    Console.WriteLine("Hello");\n}', 'SELECT * FROM t WHERE id = 1;', 'if [ -f "$f" ]; then echo ok; fi');
    add('<div class="a">Hi</div>', '#include <stdio.h>\nint main(void) { return 0; }', '^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\\.[a-z]+$', '| a | b |\n|---|---|\n| 1 | 2 |');
    add('    four spaces\n        eight spaces', 'x=1;y=2', 'foo.bar_baz(qux)', 'snake_case camelCase PascalCase kebab-case', 'a += b; c -= d;');
    add('{"key": "value", "n": 1, "arr": [1, 2.5, -3], "nested": {"t": true, "f": null}}', '{"a":1}', '[]', '{}', '"\\n"', '{"emoji":"\ud83d\ude00"}');
    add('https://huggingface.co/HuggingFaceTB/SmolVLM-256M-Instruct', 'http://example.com/path?q=1&r=two#frag', 'user@example.com');
    add('C:\\Users\\me\\file.txt', '/usr/local/bin/dotnet', 'ftp://a.b/c', 'www.example.org', 'https://ex.com/%E2%9C%93');

    // --- the prompt-golden questions ------------------------------------------------------------------
    add('What is on the belt?', '  leading spaces', 'trailing spaces   ', 'Describe this image.', 'How many boxes are there?');

    // --- probes for known transformers.js-vs-Rust differences (see README) ----------------------------
    // (1) regex \s: JS includes U+FEFF, Oniguruma (Rust/Python) includes U+0085 instead.
    for (const ch of ['\ufeff', '\u0085']) {
        add(`a${ch}!`, `${ch}${ch}`, `x ${ch}`, `x${ch} y`, `${ch}!`, `!${ch}`, ` ${ch}x`, `1${ch}2`, `${ch} ${ch}`, `a ${ch}\n`, `${ch}'s`, `x ${ch}y`);
    }
    // (2) Digits pre-tokenizer: JS splits only ASCII \d, Rust splits every char::is_numeric() char.
    for (const n of ['\u00bd', '\u00b2', '\u00b9', '\u2070', '\uff11', '\u0663', '\u0967', '\u216b', '\u2460', '\ud835\udfcf', '\u0e51', '\u3007']) {
        add(` ${n}`, `a ${n}`, `\r\n${n}`, `x${n}`, `${n}x`);
    }
    add('x = \u00bd + \u00bc', 'E = mc\u00b2', 'area 5 m\u00b2', 'chapter \u2163', 'step \u2460 then \u2461', '\u0627\u0644\u0639\u062f\u062f \u0665');
    // (3) bytes without a vocab entry (unk_token is null): both drop them, Rust merges across the gap.
    add('.\u001d.', '!\u001d!', '(\u001d)', '.\u0004.', '.\u0006.', '.\u0013.', '.\u0014.', '.\u0016.', 'a\u0004b', '\u0013\u0014', '..\u{4e000}..', 'x\u{80000}y');

    // --- deterministic fuzz ---------------------------------------------------------------------------
    const pieces = [
        ' ', ' ', ' ', '  ', '\t', '\n', '\n\n', '\r\n', '\r', 'a', 'the', 'The', 'word', 'x', 'Z', '1', '42', '3.5', '-', "'s",
        "'t", "'ll", "'S", "'", '.', ',', '!', '?', '(', ')', '"', '\u00e9', 'e\u0301', '\u00fc', '\u4e2d', '\u6587', '\u3042',
        '\ud55c', '\u0645', '\u05e9', '\u0928', '\u0e2a', '\u03b1', '\u0436', '\ud83d\ude00', '\ud83d\udc4d\ud83c\udffd',
        '\ud83c\uddef\ud83c\uddf5', '\ud835\udc00', '\u00a0', '\u3000', '\u2003', '<image>', '<end_of_utterance>', '_', '/',
        '0', '99', '\u00bd', '\u2014', '\u2026', '$', '%', '#', '\\',
    ];
    const rnd = mulberry32(0x5eed1234);
    for (let i = 0; i < 150; i++) {
        const n = 1 + Math.floor(rnd() * 14);
        let s = '';
        for (let k = 0; k < n; k++) s += pieces[Math.floor(rnd() * pieces.length)];
        add(s);
    }

    // --- very long inputs -----------------------------------------------------------------------------
    // The long mixed text avoids the known divergence triggers (non-ASCII numerics) so it stays a golden.
    const safePieces = pieces.filter((p) => !/(?![0-9])\p{N}/u.test(p));
    const mixed = [];
    const rnd2 = mulberry32(0xc0ffee);
    let len = 0;
    while (len < 5000) {
        const p = safePieces[Math.floor(rnd2() * safePieces.length)];
        mixed.push(p);
        len += p.length;
    }
    add(mixed.join('').slice(0, 5000).replace(/[\ud800-\udbff]$/, ''));
    add(' '.repeat(2000), '1234567890'.repeat(300), 'a'.repeat(1000), 'ab '.repeat(700), '\n'.repeat(1000));
    add('\ud83d\ude00'.repeat(500), '\u4e2d\u6587\u5b57\u7b26'.repeat(500), ' \t'.repeat(500), 'x'.repeat(300) + ' ' + 'y'.repeat(300));
    add(('The quick brown fox jumps over the lazy dog. ' + "It's 3.14 o'clock!\n").repeat(60));
    add('<image>'.repeat(200), '\r\n'.repeat(500), 'a '.repeat(1000) + ' '.repeat(1000) + 'b');

    // Dedupe, keep first occurrence.
    const seen = new Set();
    return c.filter((s) => (seen.has(s) ? false : (seen.add(s), true)));
}

// Chars with a UTF-8 byte whose byte-level symbol is missing from the BPE vocab (computed in main()).
let unknownByteSet = new Set();
function hasUnknownByte(text) {
    const enc = new TextEncoder().encode(text);
    return enc.some((b) => unknownByteSet.has(b));
}

function byteLevelAlphabet() {
    // GPT-2 bytes_to_unicode()
    const bs = [];
    for (let i = 0x21; i <= 0x7e; i++) bs.push(i);
    for (let i = 0xa1; i <= 0xac; i++) bs.push(i);
    for (let i = 0xae; i <= 0xff; i++) bs.push(i);
    const cs = bs.slice();
    let n = 0;
    for (let b = 0; b < 256; b++) if (!bs.includes(b)) (bs.push(b), cs.push(256 + n++));
    const map = new Map();
    bs.forEach((b, i) => map.set(b, String.fromCharCode(cs[i])));
    return map;
}

function explainDivergence(text) {
    const notes = [];
    if (/(?![0-9])\p{N}/u.test(text))
        notes.push(
            'contains a non-ASCII numeric char: the Digits(individual_digits) pre-tokenizer splits every char::is_numeric() char in Rust, but only ASCII \\d in transformers.js, so e.g. " \u00bd" or "\\r\\n\u00bd" is split differently',
        );
    if (hasUnknownByte(text))
        notes.push(
            `contains a byte with no vocab entry (${[...unknownByteSet].map((b) => '0x' + b.toString(16).padStart(2, '0')).join(' ')}; unk_token is null): both drop it, but Rust drops it before merging (neighbours merge across it, ".\\u001d." -> [".."]) while transformers.js does not`,
        );
    if (text.includes('\ufeff'))
        notes.push(
            'contains U+FEFF: JS regex \\s matches U+FEFF, Rust/Oniguruma \\s (used by Python tokenizers) does not, so the ByteLevel pre-tokenizer regex splits differently',
        );
    if (text.includes('\u0085'))
        notes.push(
            'contains U+0085 (NEL): Rust/Oniguruma \\s matches U+0085, JS regex \\s does not, so the ByteLevel pre-tokenizer regex splits differently',
        );
    if (text.includes('\u180e')) notes.push('contains U+180E: whitespace classification differs between Unicode versions');
    if (notes.length === 0) notes.push('unexplained: transformers.js and Rust tokenizers disagree');
    return notes.join('; ');
}

async function loadRustTokenizer(tokenizerJson) {
    try {
        const mod = await import('tokenizers');
        const Tokenizer = mod.Tokenizer ?? mod.default?.Tokenizer;
        return Tokenizer.fromFile(tokenizerJson);
    } catch (e) {
        console.warn(`WARNING: Rust tokenizers (npm 'tokenizers') not available, goldens are NOT cross-checked: ${e.message}`);
        return null;
    }
}

function arraysEqual(a, b) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function main() {
    const check = process.argv.includes('--check');
    const t0 = performance.now();
    const { root, modelDir, referenceDir } = stageReferenceFiles();
    configureOffline(env, root);

    const tokenizer = await AutoTokenizer.from_pretrained(MODEL_ID);
    {
        const vocab = JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')).model.vocab;
        unknownByteSet = new Set([...byteLevelAlphabet()].filter(([, ch]) => !(ch in vocab)).map(([b]) => b));
    }
    const rust = await loadRustTokenizer(path.join(modelDir, 'tokenizer.json'));
    const tLoad = performance.now();

    const cases = buildCases();
    const goldens = [];
    const divergent = [];
    for (const text of cases) {
        const jsIds = tokenizer.encode(text, { add_special_tokens: false });
        if (rust) {
            const enc = await rust.encode(text, null, { addSpecialTokens: false });
            const rustIds = Array.from(enc.getIds());
            if (!arraysEqual(jsIds, rustIds)) {
                divergent.push({ text, ids: rustIds, transformersjs_ids: jsIds, note: explainDivergence(text) });
                continue;
            }
        }
        goldens.push({ text, ids: jsIds });
    }
    const tEnc = performance.now();

    // Exact cases.
    let failures = 0;
    console.log('Exact cases:');
    for (const { text, ids } of EXPECTED) {
        const js = tokenizer.encode(text, { add_special_tokens: false });
        const rs = rust ? Array.from((await rust.encode(text, null, { addSpecialTokens: false })).getIds()) : null;
        const okJs = ids ? arraysEqual(js, ids) : rs ? arraysEqual(js, rs) : true;
        const okRs = ids && rs ? arraysEqual(rs, ids) : true;
        if (!okJs || !okRs) failures++;
        console.log(
            `  ${JSON.stringify(text).padEnd(18)} transformers.js=${JSON.stringify(js)}` +
                (rs ? ` rust=${JSON.stringify(rs)}` : '') +
                (ids ? ` expected=${JSON.stringify(ids)}` : '') +
                `  ${okJs && okRs ? 'OK' : 'MISMATCH'}`,
        );
    }

    if (check) {
        const want = goldens.map(toJsonLine).join('\n') + '\n';
        const have = fs.existsSync(OUT_MAIN) ? fs.readFileSync(OUT_MAIN, 'utf8') : '';
        const wantD = divergent.map(toJsonLine).join('\n') + (divergent.length ? '\n' : '');
        const haveD = fs.existsSync(OUT_DIVERGENT) ? fs.readFileSync(OUT_DIVERGENT, 'utf8') : '';
        const same = want === have && wantD === haveD;
        console.log(same ? 'check: committed goldens are up to date' : 'check: committed goldens DIFFER from regenerated ones');
        if (!same) failures++;
    } else {
        const size = writeJsonl(OUT_MAIN, goldens);
        const sizeD = writeJsonl(OUT_DIVERGENT, divergent);
        console.log(`wrote ${path.relative(REPO_ROOT, OUT_MAIN)} (${goldens.length} cases, ${(size / 1024).toFixed(1)} KiB)`);
        console.log(`wrote ${path.relative(REPO_ROOT, OUT_DIVERGENT)} (${divergent.length} cases, ${(sizeD / 1024).toFixed(1)} KiB)`);
    }

    const nIds = goldens.reduce((a, g) => a + g.ids.length, 0);
    const maxLen = Math.max(...cases.map((s) => s.length));
    console.log(
        `summary: reference=${referenceDir} transformers.js=${env.version} tokenizer=${tokenizer.constructor.name} ` +
            `cases=${cases.length} goldens=${goldens.length} divergent=${divergent.length} ids=${nIds} longest_text=${maxLen} chars ` +
            `cross_check=${rust ? 'rust tokenizers' : 'none'}`,
    );
    for (const d of divergent) console.log(`  divergent: ${JSON.stringify(d.text)} rust=${JSON.stringify(d.ids)} js=${JSON.stringify(d.transformersjs_ids)}`);
    console.log(
        `time: load ${((tLoad - t0) / 1000).toFixed(2)} s, encode ${((tEnc - tLoad) / 1000).toFixed(2)} s, total ${((performance.now() - t0) / 1000).toFixed(2)} s`,
    );
    if (failures) {
        console.error(`${failures} check(s) failed`);
        process.exitCode = 1;
    }
}

await main();
