import json,glob,os,re,sys,csv,yaml,html
root='/work/blind/kitchen'; shop=root+'/shop'
def text(p):
    b=open(os.path.join(shop,p),'rb').read()
    try: t=b.decode('utf-8')
    except UnicodeDecodeError: t=b.decode('gb18030')
    if p.endswith('.json'): t=json.dumps(json.load(open(os.path.join(shop,p))),ensure_ascii=False)
    if p.endswith('.html'): t=html.unescape(re.sub(r'<[^>]+>',' ',re.sub(r'(?s)<(script|style).*?</\1>','',t)))
    return t
yaml.safe_load(open(shop+'/shop.yaml'))
hdr=next(csv.reader(open(shop+'/faq/faq.csv',encoding='utf-8'))); assert hdr[:2]==['question','answer'],hdr
for f in glob.glob(shop+'/**/*.json*',recursive=True):
    if f.endswith('.jsonl'): [json.loads(l) for l in open(f) if l.strip()]
    else: json.load(open(f))
bad=0
for fn in ['answer.jsonl','presales.jsonl','reply.jsonl','emotion.jsonl','grounding.jsonl']:
    p=os.path.join(root,fn)
    if not os.path.exists(p): continue
    ids=set();n=0
    for l in open(p,encoding='utf-8'):
        d=json.loads(l); n+=1
        assert d['id'] not in ids,d['id']; ids.add(d['id'])
        e=d.get('expect',{})
        srcs=e.get('sources',[])
        for s in srcs:
            if not os.path.exists(os.path.join(shop,s)): print('MISSING SRC',d['id'],s); bad+=1
        if srcs:
            alltxt=''.join(text(s) for s in srcs)
            for cst in e.get('contains',[]):
                if cst not in alltxt: print('NOT IN SRC',fn,d['id'],cst); bad+=1
    print(fn,n)
print('bad',bad)
