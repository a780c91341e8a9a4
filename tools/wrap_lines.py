"""Wrap code lines over 120 characters in notebooks: at the outermost bracketed comma, `if ...: raise` on two lines, a long
string split into adjacent strings. A cell is changed only where its AST stays the same, so the code means what it meant.

    .venv/bin/python tools/wrap_lines.py nbs/NN_chapter.ipynb [...]   # then nbdev-clean --fname and nbdev-export
"""
import ast, io, json, sys, tokenize
WIDTH = 120

def _split_line(line):
    "Split one physical line at the last outermost bracketed comma before WIDTH; None if not possible."
    try: toks = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return None
    code_end = max((tk.end[1] for tk in toks if tk.type not in (tokenize.COMMENT, tokenize.NEWLINE, tokenize.NL,
                                                                 tokenize.ENDMARKER, tokenize.DEDENT, tokenize.INDENT)), default=0)
    if code_end <= WIDTH: return None   # long only by its comment: leave it
    stack, cands, in_target = [], [], set()
    for tk in toks:
        d = len(stack)
        if tk.type == tokenize.NAME and tk.string == 'for' and d: in_target.add(d)
        elif tk.type == tokenize.NAME and tk.string == 'in': in_target.discard(d)
        if tk.type == tokenize.OP and tk.string in '([{': stack.append(tk.end[1])
        elif tk.type == tokenize.OP and tk.string in ')]}':
            in_target.discard(d)
            if stack: stack.pop()
        elif tk.type == tokenize.OP and tk.string == ',' and stack and tk.end[1] <= WIDTH - 1 and d not in in_target:
            rest = line[tk.end[1]:].strip()
            if rest and not rest.startswith('#'): cands.append((d, tk.end[1], stack[-1]))
        elif tk.type == tokenize.COMMENT and tk.start[1] < WIDTH: return None
    if not cands: return None
    d0 = min(c[0] for c in cands)
    _, cut, indent = [c for c in cands if c[0] == d0][-1]
    return line[:cut].rstrip(), indent, line[cut:].strip()

def _split_string(line):
    "Split a long single-line string literal inside brackets at a space before WIDTH (outside f-string braces)."
    try: toks = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return None
    stack = []
    for tk in toks:
        if tk.type == tokenize.OP and tk.string in '([{': stack.append(tk.end[1])
        elif tk.type == tokenize.OP and tk.string in ')]}':
            if stack: stack.pop()
        elif tk.type == tokenize.STRING and stack and tk.start[1] < WIDTH - 10 and tk.end[1] > WIDTH:
            t = tk.string
            i = 0
            while i < len(t) and t[i] in 'rbfuRBFU': i += 1
            prefix, q = t[:i], t[i]
            if t[i:i+3] in ('"""', "\'\'\'") or 'b' in prefix.lower(): return None
            body_start = tk.start[1] + i + 1
            depth, best = 0, None
            for j in range(body_start, min(WIDTH - 2, tk.end[1] - 1)):
                ch = line[j]
                if 'f' in prefix.lower():
                    if ch == '{': depth += 1
                    elif ch == '}': depth -= 1
                if ch == ' ' and depth == 0 and line[j-1] != '\\' and j > body_start + 10: best = j
            if best is None: return None
            head = line[:best + 1] + q
            rest = line[best + 1:]
            tprefix = prefix.replace('f', '').replace('F', '') if '{' not in rest[:tk.end[1] - best - 1] else prefix
            tail = tprefix + q + rest
            return head, tk.start[1], tail
    return None

def _split_if_raise(line):
    "`if cond: raise ...` over WIDTH as two lines."
    st = line.lstrip()
    ind = len(line) - len(st)
    if not (st.startswith('if ') and ': raise ' in st): return None
    head, tail = st.split(': raise ', 1)
    try: ast.parse(head[3:], mode='eval')
    except SyntaxError: return None
    return ' '*ind + head + ':', ind + 4, 'raise ' + tail

def wrap_source(src):
    out = []
    for line in src.split('\n'):
        guard = 0
        while len(line) > WIDTH and guard < 20:
            guard += 1
            s = _split_line(line) or _split_if_raise(line) or _split_string(line)
            if s is None: break
            head, indent, tail = s
            if indent > 100: break
            out.append(head)
            line = ' '*indent + tail
        out.append(line)
    return '\n'.join(out)

def same_ast(a, b):
    try: return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError: return False

def strip_magics(s):
    return '\n'.join(l for l in s.split('\n') if not l.startswith('#|') and not l.startswith('%'))

def wrap_nb(fn):
    nb = json.load(open(fn)); changed = 0
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source'])
        if not any(len(l) > WIDTH for l in src.split('\n')): continue
        new = wrap_source(src)
        if new != src and same_ast(strip_magics(src), strip_magics(new)):
            lines = new.split('\n')
            c['source'] = [l + '\n' for l in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
            changed += 1
    with open(fn, 'w') as f: json.dump(nb, f, indent=1, ensure_ascii=False); f.write('\n')
    return changed

if __name__ == '__main__':
    for fn in sys.argv[1:]: print(fn, wrap_nb(fn))
