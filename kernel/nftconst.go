package kernel

// Constants of the nf_tables netlink protocol, from the uapi headers
// linux/netfilter/nfnetlink.h and linux/netfilter/nf_tables.h. Only what
// the batch layer sends is listed; names follow the header without the
// NFTA_/NFT_ prefix noise where that keeps them readable.

// nfnetlink.
const (
	nfnlSubsysNFTables = 10   // NFNL_SUBSYS_NFTABLES
	nfnlMsgBatchBegin  = 0x10 // NFNL_MSG_BATCH_BEGIN
	nfnlMsgBatchEnd    = 0x11 // NFNL_MSG_BATCH_END
	nfnlBatchGenID     = 1    // NFNL_BATCH_GENID
	nfgenmsgLen        = 4    // struct nfgenmsg
	nlmsgHdrLen        = 16   // struct nlmsghdr
	nlaHdrLen          = 4    // struct nlattr
	nlaFNested         = 0x8000
	maxAttrLen         = 0xffff // nla_len is 16 bits
)

// Netlink header flags.
const (
	nlmFRequest = 0x1
	nlmFAck     = 0x4
	nlmFReplace = 0x100
	nlmFExcl    = 0x200
	nlmFCreate  = 0x400
	nlmFAppend  = 0x800
)

// enum nf_tables_msg_types.
const (
	msgNewTable        = 0
	msgDelTable        = 2
	msgNewChain        = 3
	msgDelChain        = 5
	msgNewRule         = 6
	msgDelRule         = 8
	msgNewSet          = 9
	msgDelSet          = 11
	msgNewSetElem      = 12
	msgDelSetElem      = 14
	msgNewGen          = 15
	msgGetGen          = 16
	msgNewObj          = 18
	msgDelObj          = 20
	msgNewFlowtable    = 22
	msgDelFlowtable    = 24
	msgDestroyTable    = 26
	msgDestroyChain    = 27
	msgDestroyRule     = 28
	msgDestroySet      = 29
	msgDestroySetElem  = 30
	msgDestroyObj      = 31
	msgDestroyFlowtabl = 32
)

// Attribute numbers: tables, chains, hooks, rules, expressions, data.
const (
	attrListElem = 1 // NFTA_LIST_ELEM

	attrHookHooknum  = 1
	attrHookPriority = 2
	attrHookDev      = 3
	attrHookDevs     = 4

	attrTableName     = 1
	attrTableFlags    = 2
	attrTableUserdata = 6

	attrChainTable    = 1
	attrChainHandle   = 2
	attrChainName     = 3
	attrChainHook     = 4
	attrChainPolicy   = 5
	attrChainType     = 7
	attrChainFlags    = 10
	attrChainID       = 11
	attrChainUserdata = 12

	attrRuleTable       = 1
	attrRuleChain       = 2
	attrRuleHandle      = 3
	attrRuleExpressions = 4
	attrRulePosition    = 6
	attrRuleUserdata    = 7
	attrRuleChainID     = 11

	attrExprName = 1
	attrExprData = 2

	attrDataValue   = 1
	attrDataVerdict = 2

	attrVerdictCode    = 1
	attrVerdictChain   = 2
	attrVerdictChainID = 3

	attrDeviceName = 1
)

// Sets and set elements.
const (
	attrSetTable       = 1
	attrSetName        = 2
	attrSetFlags       = 3
	attrSetKeyType     = 4
	attrSetKeyLen      = 5
	attrSetDataType    = 6
	attrSetDataLen     = 7
	attrSetPolicy      = 8
	attrSetDesc        = 9
	attrSetID          = 10
	attrSetTimeout     = 11
	attrSetGCInterval  = 12
	attrSetUserdata    = 13
	attrSetObjType     = 15
	attrSetHandle      = 16
	attrSetExpr        = 17
	attrSetExpressions = 18

	attrSetDescSize   = 1
	attrSetDescConcat = 2
	attrSetFieldLen   = 1

	attrElemKey         = 1
	attrElemData        = 2
	attrElemFlags       = 3
	attrElemTimeout     = 4
	attrElemExpiration  = 5
	attrElemUserdata    = 6
	attrElemExpr        = 7
	attrElemObjref      = 9
	attrElemKeyEnd      = 10
	attrElemExpressions = 11

	attrElemListTable    = 1
	attrElemListSet      = 2
	attrElemListElements = 3
	attrElemListSetID    = 4

	setFlagInterval = 0x4
	setFlagMap      = 0x8
	setFlagObject   = 0x40
	setFlagConcat   = 0x80
	dataVerdict     = 0xffffff00 // NFT_DATA_VERDICT
)

// Flowtables, objects, generation.
const (
	attrFlowtableTable  = 1
	attrFlowtableName   = 2
	attrFlowtableHook   = 3
	attrFlowtableHandle = 5
	attrFlowtableFlags  = 7

	attrFlowtableHookNum      = 1
	attrFlowtableHookPriority = 2
	attrFlowtableHookDevs     = 3

	attrObjTable    = 1
	attrObjName     = 2
	attrObjType     = 3
	attrObjData     = 4
	attrObjHandle   = 6
	attrObjUserdata = 8

	attrGenID = 1
)

// NFT_OBJECT_* types.
const (
	objCounter   = 1
	objQuota     = 2
	objCtHelper  = 3
	objLimit     = 4
	objConnlimit = 5
	objTunnel    = 6
	objCtTimeout = 7
	objSecmark   = 8
	objCtExpect  = 9
	objSynproxy  = 10
)

// nftnl user data TLV types (libnftnl udata.h): the comment of a table,
// chain or rule is TLV type 0 in each case.
const udataComment = 0

// chainFlagBase (NFT_CHAIN_BASE) is set by the kernel, never sent.
const chainFlagBase = 0x1
