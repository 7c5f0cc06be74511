import json
OUT=[]
AD=["auto","draft"]; DH=["draft","handoff"]; H="handoff"
def c(q,dec,src=None,cont=None,nc=None,hist=None):
    e={"decision":dec}
    if src: e["sources"]=src
    if cont: e["contains"]=cont
    if nc: e["not_contains"]=nc
    d={"id":"kit-p%03d"%(len(OUT)+1),"type":"answer","question":q}
    if hist: d["history"]=[{"role":r,"text":t} for r,t in hist]
    d["expect"]=e; OUT.append(d)
P=lambda x:"products/"+x
AF45=P("af-45w.md");AF60=P("af-60.json");AF30=P("af-30.html");RC30=P("rc-30.md");RC50=P("rc-50.json")
KT=P("kt-17.html");HP=P("hp-15.md");BL=P("bl-12.json");SM=P("sm-10.md");CM20=P("cm-20.html");CM15=P("cm-15.json")
MF=P("mf-01.html");SO26=P("so-26.md");SO50=P("so-50e.json");IC=P("ic-22.json");PT=P("pt-01.md");DS=P("ds-01.json")
c("想买个礼物送妈妈，她平时爱喝花茶养生，200以内",AD,[HP],["HP-15"],["CM-20","SO-26"])
c("300以内的空气炸锅 要能看到里面的 两口子用",AD,[AF45],["AF-45W"],["AF-60","AF-30"])
c("一个人租房 想要个小炸锅 越便宜越好",AD,[AF30],["AF-30"],["AF-60"])
c("家里5口人 炸锅选哪个",AD,[AF60],["AF-60"],["AF-30"])
c("家里6个人吃饭 电饭煲推荐哪款",AD,[RC50],["RC-50"],["RC-30"])
c("不想要涂层的电饭煲，预算400，两个人吃",AD,[RC30],["RC-30"],["RC-50"])
c("给宝宝冲奶粉 要能恒温的水壶",AD,[KT],["KT-17","恒温款"])
c("办公室一个人煮花茶用 推荐个",AD,[HP],["HP-15"],["BL-12"])
c("家里四口人 早上打豆浆怕吵醒孩子 要能加热的",AD,[BL],["BL-12","静音版"],["SM-10"])
c("一个人喝豆浆 小一点的 300以内",AD,[SM],["SM-10"],["BL-12"])
c("新手 想在家做拿铁 预算1000",AD,[CM15,MF],["CM-15","MF-01"],["CM-20"])
c("想要能直接打奶泡的咖啡机 预算够",AD,[CM20],["CM-20"])
c("CM-15和CM-20有什么区别",AD,[CM15,CM20],["15bar","20bar"])
c("破壁机标准版和静音版差在哪 差150块值吗",AD,[BL],["58dB","78dB"])
c("RC-30和RC-50怎么选 三口之家",AD,[RC30,RC50],["RC-30","RC-50"])
c("AF-45W跟AF-60有啥不一样",AD,[AF45,AF60],["4.5L","6L"])
c("台式蒸烤箱和嵌入式的有什么区别",AD,[SO26,SO50],["SO-26","SO-50E"])
c("别家空气炸锅才一百多 你们这个299贵在哪",AD,[AF45],["可视窗"])
c("别家电饭煲两百多 你们陶瓷的要399 贵在哪",AD,[RC30],["陶瓷釉"])
c("买了空气炸锅 还需要配点啥",AD,[PT,AF45],["PT-01"])
c("买了CM-15 还要买什么才能做卡布奇诺",AD,[CM15,MF],["MF-01"])
c("买了热水壶 需要顺便买除垢剂吗",AD,[DS,KT],["DS-01"])
c("我买的是3L小炸锅 烘焙纸要一起买吗",AD,[PT,AF30],["不适配"])
c("预算100块 想买个小电器送同事",AD,[KT],["KT-17"],["HP-15","AF-30"])
c("预算50以内 有什么小家电能送人",H,None,None,["AF-30","KT-17"])
c("想要个能蒸能烤的 2000以内 租的房子不能动柜子",AD,[SO26],["SO-26"],["SO-50E"])
c("厨房正在装修 想要嵌入式的蒸烤箱",AD,[SO50],["SO-50E"])
c("想要个电磁炉 最好带锅的",AD,[IC],["299"])
c("想炖燕窝 买哪个",AD,[HP],["炖盅套装"])
c("宿舍限电800w 想煮点东西",DH)
c("想要能烤整鸡的 还要能看见里面 现在就要",DH)
c("有没有全自动的咖啡机 一键出美式还自带磨豆那种",H)
c("1000以内给爸妈买个实用的厨房电器 不知道买啥",DH)
c("空气炸锅有蓝色的吗",AD,[AF45],["雾霾蓝"])
c("电磁炉单机和套装差60块 值不值",AD,[IC],["汤锅"])
c("养生壶和电热水壶 主要就烧水 选哪个",AD,[KT,HP],["1800W"])
c("两个人 主要打豆浆 豆浆机和破壁机选哪个",AD,[SM,BL],["SM-10"])
c("给刚搬家的朋友送个电饭煲 预算600 三个人 不在乎涂层",AD,[RC50],["RC-50"],["699"])
c("想入一台咖啡机 要能打奶泡 预算只有800",H)
c("买了蒸烤箱要配什么吗",AD,[SO26,DS],["DS-01"])
with open("presales.jsonl","w",encoding="utf-8") as f:
    for d in OUT: f.write(json.dumps(d,ensure_ascii=False)+"\n")
import collections
print(len(OUT), collections.Counter(str(d["expect"]["decision"]) for d in OUT))
